export { describeObject, describePolicy, describeRow } from "./describe.ts";
export { renderConflict } from "./conflicts.ts";
export { renderPreview, renderStatement } from "./preview.ts";
export { describeChange, renderDiffSummary } from "./summary.ts";
export { alterSql, converter, createSql, dropSql, impactOf } from "./sql/index.ts";
