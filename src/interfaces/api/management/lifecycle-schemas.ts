import { type Static, Type } from "typebox";
import { RULE_SYNTAX } from "../../../platform/mask/rules.ts";
import { BranchInfo, BranchParams, Name, Nullable, pointInTime } from "./schemas.ts";

// Inputs and outputs of the daily branch routes of the management API: restore, two-way
// diff, masking rules and table merge policies; shapes are those of the CLI's --json output.

export const RestoreBody = Type.Object(
  {
    ...pointInTime,
    noBackup: Type.Optional(
      Type.Boolean({
        description: "do not keep the current state as the child NAME-before-restore-<time>",
      }),
    ),
  },
  { additionalProperties: false },
);
export const RestoreReport = Type.Object({
  branch: BranchInfo,
  backup: Nullable(Type.String({ description: "the branch holding the state before the restore" })),
  elapsedMs: Type.Integer(),
});

export const CompareParams = Type.Object({ ...BranchParams.properties, other: Name });
export const CompareQuery = Type.Object(pointInTime);
export const CompareReport = Type.Object({
  a: Type.String(),
  b: Type.String(),
  bAt: Nullable(Type.String({ description: "B as it was then (ISO time or LSN); null: now" })),
  changes: Type.Array(Type.Object({}, { additionalProperties: true }), {
    description: "what turns A's schema and config rows into B's (the merge engine's changes)",
  }),
  summary: Type.String(),
});

export const MaskRuleParams = Type.Object({
  ...BranchParams.properties,
  column: Type.String({ minLength: 1, maxLength: 800, description: "SCHEMA.TABLE.COLUMN" }),
});
export const MaskRule = Type.Object({
  column: Type.String({ description: "SCHEMA.TABLE.COLUMN" }),
  schema: Type.String(),
  table: Type.String(),
  columnName: Type.String(),
  rule: Type.String(),
});
export const MaskRules = Type.Array(MaskRule);
export const SetMaskRuleBody = Type.Object(
  {
    rule: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: RULE_SYNTAX,
    }),
  },
  { additionalProperties: false },
);
export const MaskRuleSet = Type.Object({
  ...MaskRule.properties,
  branch: Type.String(),
  warnings: Type.Array(Type.String(), {
    description: "foreign keys whose other side needs the same rule (create --mask refuses)",
  }),
});
export const MaskRuleUnset = Type.Object({ column: Type.String(), branch: Type.String() });

export const TablePolicyParams = Type.Object({
  ...BranchParams.properties,
  table: Type.String({ minLength: 1, maxLength: 600, description: "SCHEMA.TABLE" }),
});
const PolicyName = Type.Union([
  Type.Literal("upsert"),
  Type.Literal("merge-rows"),
  Type.Literal("ignore"),
]);
export const TablePolicy = Type.Object({
  table: Type.String(),
  policy: PolicyName,
  key: Type.Array(Type.String()),
  excluded: Type.Array(Type.String()),
});
export const TablePolicies = Type.Array(TablePolicy);
const Columns = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1600 });
export const SetTablePolicyBody = Type.Object(
  {
    policy: Type.String({
      minLength: 1,
      maxLength: 32,
      description:
        "upsert (config rows by key), merge-rows (rows by primary key, cell by cell) or ignore",
    }),
    key: Type.Optional(Columns),
    exclude: Type.Optional(Columns),
  },
  { additionalProperties: false },
);

export type RestoreBodyT = Static<typeof RestoreBody>;
export type RestoreReportT = Static<typeof RestoreReport>;
export type CompareQueryT = Static<typeof CompareQuery>;
export type CompareReportT = Static<typeof CompareReport>;
export type MaskRuleT = Static<typeof MaskRule>;
export type MaskRuleSetT = Static<typeof MaskRuleSet>;
export type MaskRuleUnsetT = Static<typeof MaskRuleUnset>;
export type TablePolicyT = Static<typeof TablePolicy>;
export type SetTablePolicyBodyT = Static<typeof SetTablePolicyBody>;
