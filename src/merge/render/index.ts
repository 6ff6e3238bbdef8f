export { renderConflict } from "./conflicts.ts";
export { describeObject, describePolicy, describeRow } from "./describe.ts";
export { renderPreview, renderStatement } from "./preview.ts";
export { alterSql, converter, createSql, dropSql, impactOf } from "./sql/index.ts";
export { describeChange, renderCompareSummary, renderDiffSummary } from "./summary.ts";
