import { type Static, Type } from "typebox";
import { MAX_SOURCE_BYTES } from "../../../platform/functions/source.ts";
import { BranchParams, Name, Nullable } from "./schemas.ts";

// Inputs and outputs of the branch platform routes (functions, schedules, secrets, email)
// of the management API; shapes are those of the CLI's --json output.

export const FunctionParams = Type.Object({ ...BranchParams.properties, name: Name });
export const ScheduleParams = FunctionParams;
export const SecretParams = Type.Object({ ...BranchParams.properties, key: Name });
export const TemplateParams = Type.Object({ ...BranchParams.properties, type: Name });
export const LimitQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: "newest first" })),
});

export const FunctionSummary = Type.Object({
  name: Type.String(),
  entrypoint: Type.String(),
  verifyJwt: Type.Boolean(),
  files: Type.Array(Type.String()),
  size: Type.Integer({ description: "bytes of source, all files together" }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export const FunctionList = Type.Array(FunctionSummary);

export const DeployFunctionBody = Type.Object(
  {
    files: Type.Record(Type.String({ maxLength: 1024 }), Type.String(), {
      description:
        'source files by relative path, e.g. { "index.ts": "Deno.serve(...)" }; relative imports between them work',
      minProperties: 1,
      maxProperties: 1000,
    }),
    entrypoint: Type.Optional(Type.String({ maxLength: 1024, description: "default index.ts" })),
    verifyJwt: Type.Optional(
      Type.Boolean({ description: "require this branch's key or a user token (default true)" }),
    ),
  },
  { additionalProperties: false },
);
/** Sources may be up to MAX_SOURCE_BYTES; JSON escaping adds to that. */
export const DEPLOY_BODY_LIMIT = MAX_SOURCE_BYTES + (1 << 20);

export const DeployedFunction = Type.Object({
  name: Type.String(),
  branch: Type.String(),
  created: Type.Boolean({ description: "false when it replaced a function of the same name" }),
  files: Type.Array(Type.String()),
});
export const DeletedFunction = Type.Object({ name: Type.String(), branch: Type.String() });

export const Invocation = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  startedAt: Type.String(),
  durationMs: Type.Integer(),
  status: Type.Integer({ description: "HTTP status the function answered" }),
  outcome: Type.Union([
    Type.Literal("ok"),
    Type.Literal("error"),
    Type.Literal("timeout"),
    Type.Literal("memory"),
    Type.Literal("crash"),
  ]),
  stdout: Type.String(),
  stderr: Type.String(),
});
export const Invocations = Type.Array(Invocation);

const scheduleFields = {
  cron: Type.String({
    maxLength: 256,
    description: '5 fields, or 6 with seconds first, e.g. "*/5 * * * *"',
  }),
  timezone: Type.Optional(Type.String({ maxLength: 64, description: "IANA zone, default UTC" })),
  function: Type.Optional(
    Type.String({ maxLength: 128, description: "an edge function of the branch" }),
  ),
  url: Type.Optional(Type.String({ maxLength: 2048, description: "an http(s) URL" })),
  payload: Type.Optional(Type.Unknown({ description: "JSON body sent with each call" })),
  method: Type.Optional(Type.String({ maxLength: 16, description: "default POST" })),
};
export const CreateScheduleBody = Type.Object(
  { name: Name, ...scheduleFields },
  { additionalProperties: false },
);
export const UpdateScheduleBody = Type.Object(
  { ...scheduleFields, cron: Type.Optional(scheduleFields.cron) },
  { additionalProperties: false },
);

export const Schedule = Type.Object({
  name: Type.String(),
  cron: Type.String(),
  timezone: Type.String(),
  targetKind: Type.Union([Type.Literal("function"), Type.Literal("url")]),
  target: Type.String(),
  method: Type.String(),
  payload: Type.Unknown(),
  active: Type.Boolean({
    description: "fires on this branch (not paused, resumed or created here)",
  }),
  paused: Type.Boolean(),
  pausedReason: Nullable(Type.String()),
  lastRunAt: Nullable(Type.String()),
  nextRunAt: Nullable(Type.String()),
  failureCount: Type.Integer(),
  lastStatus: Nullable(Type.String()),
});
export const Schedules = Type.Array(Schedule);
export const DeletedSchedule = Type.Object({ name: Type.String(), deleted: Type.Boolean() });

export const ScheduleRun = Type.Object({
  id: Type.Integer(),
  job: Type.String(),
  scheduledFor: Nullable(Type.String()),
  startedAt: Type.String(),
  durationMs: Nullable(Type.Integer()),
  status: Type.Union([Type.Literal("running"), Type.Literal("succeeded"), Type.Literal("failed")]),
  httpStatus: Nullable(Type.Integer()),
  response: Nullable(Type.String()),
  error: Nullable(Type.String()),
});
export const ScheduleRuns = Type.Array(ScheduleRun);

export const SecretItem = Type.Object({
  key: Type.String(),
  productionOnly: Type.Boolean(),
  inherited: Type.Boolean(),
  source: Type.String({ description: "the branch the value was set on" }),
  updatedAt: Type.String(),
  exposure: Type.Union(
    [Type.Literal("value"), Type.Literal("masked"), Type.Literal("unreadable")],
    {
      description: "what the branch's functions get",
    },
  ),
});
export const SecretList = Type.Array(SecretItem, {
  description: "names and metadata, never values",
});
export const SetSecretBody = Type.Object(
  {
    value: Type.String({ maxLength: 64 * 1024 }),
    productionOnly: Type.Optional(
      Type.Boolean({ description: "never visible on branches created from this one" }),
    ),
  },
  { additionalProperties: false },
);
export const SecretSet = Type.Object({
  key: Type.String(),
  branch: Type.String(),
  productionOnly: Type.Boolean(),
});
export const SecretUnset = Type.Object({ key: Type.String() });

export const SecretsPolicyName = Type.Union([
  Type.Literal("copy"),
  Type.Literal("empty"),
  Type.Literal("mask"),
]);
export const SecretsPolicy = Type.Object({ project: Type.String(), policy: SecretsPolicyName });
export const SetSecretsPolicyBody = Type.Object(
  { policy: SecretsPolicyName },
  { additionalProperties: false },
);

export const OutboxItem = Type.Object({
  id: Type.Integer(),
  to: Type.String(),
  template: Type.String(),
  subject: Type.String(),
  text: Type.String(),
  html: Nullable(Type.String()),
  createdAt: Type.String(),
  delivered: Type.Boolean(),
  deliveredAt: Nullable(Type.String()),
  status: Type.String({
    description: "pending, delivered, held (this branch does not send), failed",
  }),
  error: Nullable(Type.String()),
  inherited: Type.Boolean({ description: "queued on another branch: never delivered from here" }),
});
export const Outbox = Type.Array(OutboxItem);

export const EmailTemplate = Type.Object({
  type: Type.String({ description: "confirmation, magic_link, recovery, invite or email_change" }),
  subject: Type.String(),
  body: Type.String(),
});
export const EmailTemplates = Type.Array(EmailTemplate);
export const SetTemplateBody = Type.Object(
  {
    subject: Type.String({ minLength: 1, maxLength: 1024 }),
    body: Type.String({ minLength: 1, maxLength: 256 * 1024, description: "HTML" }),
  },
  { additionalProperties: false },
);

export type FunctionSummaryT = Static<typeof FunctionSummary>;
export type DeployFunctionBodyT = Static<typeof DeployFunctionBody>;
export type DeployedFunctionT = Static<typeof DeployedFunction>;
export type DeletedFunctionT = Static<typeof DeletedFunction>;
export type InvocationT = Static<typeof Invocation>;
export type CreateScheduleBodyT = Static<typeof CreateScheduleBody>;
export type UpdateScheduleBodyT = Static<typeof UpdateScheduleBody>;
export type ScheduleT = Static<typeof Schedule>;
export type DeletedScheduleT = Static<typeof DeletedSchedule>;
export type ScheduleRunT = Static<typeof ScheduleRun>;
export type SecretItemT = Static<typeof SecretItem>;
export type SetSecretBodyT = Static<typeof SetSecretBody>;
export type SecretSetT = Static<typeof SecretSet>;
export type SecretUnsetT = Static<typeof SecretUnset>;
export type SecretsPolicyT = Static<typeof SecretsPolicy>;
export type OutboxItemT = Static<typeof OutboxItem>;
export type EmailTemplateT = Static<typeof EmailTemplate>;
export type SetTemplateBodyT = Static<typeof SetTemplateBody>;
