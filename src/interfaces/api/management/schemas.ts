import { type Static, type TSchema, Type } from "typebox";

// Inputs and outputs of the management API (/v1). They validate requests, shape responses
// and are the OpenAPI document (/openapi.json); the SDK's types are derived from them.

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
// Names are checked by the operations (src/core/names.ts), so a bad one gets INVALID_NAME,
// the code the CLI gives; the schema only bounds the length.
export const Name = Type.String({ minLength: 1, maxLength: 256 });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: "stable error code, the same as the CLI's" }),
    message: Type.String(),
    hint: Type.String({ description: "what to do about it" }),
    details: Type.Optional(Type.Unknown()),
  },
  { description: "every error of the management API" },
);

/** Error responses most routes can give (authentication, validation, unknown names, busy). */
export const ERRORS = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  423: ErrorBody,
  500: ErrorBody,
};

export const ProjectParams = Type.Object({ project: Name });
export const BranchParams = Type.Object({ project: Name, branch: Name });
export const OperationParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const WaitQuery = Type.Object({
  wait: Type.Optional(
    Type.Boolean({
      description: "answer when done (200/201 with the result) instead of 202 and an operation",
    }),
  ),
});

export const Project = Type.Object({ name: Type.String(), createdAt: Type.String() });
export const Projects = Type.Array(Project);
export const CreateProjectBody = Type.Object({ name: Name }, { additionalProperties: false });

export const BranchMode = Type.Union([Type.Literal("full"), Type.Literal("schema-only")]);
export const BranchState = Type.Union([
  Type.Literal("creating"),
  Type.Literal("ready"),
  Type.Literal("merging"),
  Type.Literal("merged"),
  Type.Literal("conflicted"),
  Type.Literal("resetting"),
  Type.Literal("restoring"),
  Type.Literal("deleting"),
  Type.Literal("failed"),
]);

const branchFields = {
  name: Type.String(),
  project: Type.String(),
  parent: Nullable(Type.String()),
  mode: BranchMode,
  masked: Type.Boolean({ description: "user data and auth users anonymized at creation" }),
  state: BranchState,
  running: Type.Boolean(),
  crashed: Type.Boolean(),
  port: Type.Integer(),
  createdAt: Type.String(),
  forkedAt: Nullable(Type.String()),
  forkLsn: Nullable(Type.String()),
  lastError: Nullable(Type.String()),
  connectionString: Type.String({
    description: "through bough up's Postgres proxy while it runs, else the cluster's own port",
  }),
  idle: Type.Boolean({ description: "stopped by scale to zero; the next connection starts it" }),
  suspendAfter: Type.String({ description: "idle timeout: 5m, 30s, never, ..." }),
  protected: Type.Boolean({ description: "reset, restore and delete are refused" }),
  expiresAt: Nullable(Type.String({ description: "when it is deleted; null: never" })),
};

export const BranchInfo = Type.Object(branchFields);
export const BranchListItem = Type.Object({
  ...branchFields,
  diskBytes: Nullable(Type.Integer({ description: "bytes the branch adds on disk" })),
});

export const Branches = Type.Array(BranchListItem);

export const BranchKeys = Type.Object({
  apiUrl: Type.String(),
  publishableKey: Type.String(),
  secretKey: Type.String(),
});

export const BranchDetail = Type.Object({
  ...branchFields,
  diskBytes: Nullable(Type.Integer()),
  dataDir: Type.String(),
  t0Dir: Nullable(Type.String()),
  children: Type.Array(Type.String()),
  cloneDriver: Type.String(),
  // Absent while the branch is being created or deleted.
  apiUrl: Type.Optional(Type.String()),
  publishableKey: Type.Optional(Type.String()),
  secretKey: Type.Optional(Type.String()),
});

export const ProjectDetail = Type.Object({
  name: Type.String(),
  createdAt: Type.String(),
  branches: Type.Array(BranchListItem),
});

const expiryFields = {
  expiresIn: Type.Optional(Type.String({ maxLength: 16, description: "e.g. 30m, 2h, 7d" })),
  expiresAt: Type.Optional(Type.String({ maxLength: 64, description: "ISO 8601" })),
};

const suspendAfter = Type.Optional(
  Type.String({
    maxLength: 16,
    description: "stop it after this long without connections: 30s, 5m, 2h, never",
  }),
);

/** `--at TIME | --lsn LSN` (at most one), shared by create, restore and the two-way diff. */
export const pointInTime = {
  at: Type.Optional(
    Type.String({
      maxLength: 128,
      description: 'ISO 8601, or anything `date -d` reads ("10 minutes ago")',
    }),
  ),
  lsn: Type.Optional(
    Type.String({ maxLength: 32, description: "just before this WAL position, e.g. 0/3000148" }),
  ),
};

export const CreateBranchBody = Type.Object(
  {
    name: Name,
    parent: Type.Optional(Type.String({ maxLength: 256, description: "default main" })),
    mode: Type.Optional(BranchMode),
    mask: Type.Optional(Type.Boolean({ description: "apply the parent's masking rules" })),
    ...pointInTime,
    ...expiryFields,
    suspendAfter,
  },
  { additionalProperties: false },
);

export const SetBranchBody = Type.Object(
  {
    ...expiryFields,
    noExpiry: Type.Optional(Type.Boolean({ description: "remove the expiry" })),
    suspendAfter,
  },
  { additionalProperties: false },
);

export const RenameBranchBody = Type.Object({ newName: Name }, { additionalProperties: false });

export const ResetQuery = Type.Object({
  ...WaitQuery.properties,
  toParent: Type.Optional(
    Type.Boolean({ description: "become a fresh copy of the parent as it is now" }),
  ),
});

export const CreatedBranch = Type.Object({
  ...branchFields,
  elapsedMs: Type.Integer(),
  cloneDriver: Type.String(),
});

export const DeleteBranchQuery = Type.Object({
  recursive: Type.Optional(Type.Boolean({ description: "also delete its child branches" })),
});
export const Deleted = Type.Object({ deleted: Type.Array(Type.String()) });
export const DeletedProject = Type.Object({ deleted: Type.String() });

// Changes, conflicts and planned statements are the merge engine's own JSON (src/merge):
// documented as objects, passed through unchanged.
const EngineObjects = Type.Array(Type.Object({}, { additionalProperties: true }));
const Side = Type.Union([Type.Literal("branch"), Type.Literal("parent")]);

export const DiffReport = Type.Object({
  branch: Type.String(),
  parent: Type.String(),
  migrations: Type.Array(Type.String()),
  branchChanges: EngineObjects,
  parentChanges: EngineObjects,
  conflicts: EngineObjects,
  unmergeable: EngineObjects,
  notCarried: EngineObjects,
  fingerprintSkipped: Nullable(Type.String()),
  renameSuggestions: EngineObjects,
  conversionsMissing: EngineObjects,
  summary: Type.String(),
});

export const MergeBody = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Boolean({ description: "return the preview, change nothing (answered at once)" }),
    ),
    take: Type.Optional(
      Type.Object(
        {
          branch: Type.Optional(Type.Array(Type.String(), { description: "conflict ids" })),
          parent: Type.Optional(Type.Array(Type.String(), { description: "conflict ids" })),
          all: Type.Optional(Side),
        },
        {
          additionalProperties: false,
          description:
            "settle conflicts by taking a side (ids as the report's conflicts have them)",
        },
      ),
    ),
    acceptDataLoss: Type.Optional(
      Type.Boolean({
        description: "required when a statement of the plan deletes data (nobody sees a prompt)",
      }),
    ),
    acceptServerAccess: Type.Optional(
      Type.Boolean({
        description:
          "required when a migration of the plan reaches outside the database (runs a program, touches server files, loads code)",
      }),
    ),
    renames: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), {
        maxItems: 100,
        description:
          "rename hints, `table:public.a=public.b` or `column:public.t.a=b`: the target renames the object in place (its rows kept) instead of a drop and a create",
      }),
    ),
    into: Type.Optional(
      Type.String({
        minLength: 1,
        description: "merge into this branch instead of the parent (a sibling, an ancestor)",
      }),
    ),
    allowProtected: Type.Optional(
      Type.Boolean({ description: "merge into a protected parent other than the root" }),
    ),
  },
  { additionalProperties: false },
);

export const MergeIdParams = Type.Object({ project: Name, id: Type.Integer({ minimum: 1 }) });

export const UndoBody = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Boolean({ description: "return the preview, change nothing (answered at once)" }),
    ),
    acceptDataLoss: Type.Optional(
      Type.Boolean({
        description:
          "required when a statement of the undo deletes data (a column or table the merge added)",
      }),
    ),
    allowProtected: Type.Optional(
      Type.Boolean({ description: "undo a merge into a protected branch other than the root" }),
    ),
  },
  { additionalProperties: false },
);

export const MergeInfo = Type.Object({
  id: Type.Integer(),
  kind: Type.Union([Type.Literal("merge"), Type.Literal("into"), Type.Literal("rebase")]),
  branch: Type.String({ description: "the branch it was recorded on (merged, or rebased)" }),
  source: Type.String(),
  target: Type.String({ description: "the branch the statements ran on" }),
  appliedAt: Type.String(),
  statements: Type.Integer(),
  migrations: Type.Array(Type.String()),
  undoneAt: Nullable(Type.String()),
  undoable: Type.Boolean({
    description: "not undone, and its pre-merge state inside the target's history window",
  }),
});

export const MergeList = Type.Array(MergeInfo);

export const ResolveBody = Type.Object(
  { id: Type.String({ minLength: 1, description: "the conflict id" }), take: Side },
  { additionalProperties: false },
);
export const ResolveReport = Type.Object({
  branch: Type.String(),
  parent: Type.String(),
  id: Type.String(),
  take: Side,
  remaining: Type.Array(Type.String()),
});

/** A DDL log row as the merge review cites it under a change (src/platform/ddl-log/links.ts). */
export const DdlRef = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String({ description: "the role in effect when it ran" }),
  applicationName: Type.String(),
  commandTag: Type.String(),
  statement: Type.String({ description: "cut at 500 characters" }),
});

export const UndoDetails = Type.Object({
  mergeId: Type.Integer(),
  restored: Type.Array(Type.Object({ objectId: Type.String(), rows: Type.Integer() }), {
    description: "tables and columns whose rows came back from the pre-merge state",
  }),
  notRestored: Type.Array(Type.String(), { description: "what could not be restored, and why" }),
});

export const MergeReport = Type.Object({
  kind: Type.Union([
    Type.Literal("merge"),
    Type.Literal("into"),
    Type.Literal("rebase"),
    Type.Literal("undo"),
  ]),
  branch: Type.String(),
  parent: Type.String(),
  into: Type.String({ description: "the branch the statements ran on" }),
  dryRun: Type.Boolean(),
  blocked: Type.Boolean(),
  merged: Type.Boolean(),
  migrations: Type.Array(Type.String()),
  changes: EngineObjects,
  conflicts: EngineObjects,
  resolved: EngineObjects,
  staleResolutions: EngineObjects,
  parentChanges: EngineObjects,
  unmergeable: EngineObjects,
  notCarried: EngineObjects,
  platformChanges: EngineObjects,
  secretsMissingOnParent: Type.Array(Type.String()),
  blockedReason: Nullable(Type.String()),
  fingerprintSkipped: Nullable(Type.String()),
  statements: EngineObjects,
  preview: Type.String({ description: "the reviewable SQL preview" }),
  changeHistory: Type.Record(Type.String(), Type.Array(DdlRef), {
    description: "change id → the branch's recorded DDL statements that touched its object",
  }),
  undo: Type.Optional(UndoDetails),
  renames: Type.Array(Type.String(), { description: "the rename hints applied first" }),
  renameSuggestions: EngineObjects,
  conversionsMissing: EngineObjects,
});

export const SinceQuery = Type.Object({
  since: Type.Optional(
    Type.String({ maxLength: 64, description: "an ISO time or an age (30m, 1h, 7d)" }),
  ),
});

export const DdlEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  sessionUser: Type.String(),
  currentUser: Type.String({ description: "the role in effect (after SET ROLE)" }),
  applicationName: Type.String({
    description: "e.g. `bough merge feature-x` for a merge's statements",
  }),
  commandTag: Type.String(),
  statement: Type.String(),
  objects: Type.Array(
    Type.Object({
      action: Type.String({ description: "the command that touched it, or `dropped`" }),
      type: Type.String(),
      schema: Nullable(Type.String()),
      identity: Nullable(Type.String()),
      target: Nullable(Type.Array(Type.String())),
    }),
  ),
});

export const BranchHistory = Type.Object({
  project: Type.String(),
  branch: Type.String(),
  forkedAt: Nullable(Type.String({ description: "T0; null for a root branch" })),
  entries: Type.Array(DdlEntry),
});

export const AuditQuery = Type.Object({
  project: Type.Optional(Name),
  branch: Type.Optional(Name),
  since: SinceQuery.properties.since,
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1000, description: "the newest N lines (default 100)" }),
  ),
});

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Nullable(
    Type.Object({ kind: Type.String(), name: Type.String(), client: Nullable(Type.String()) }),
  ),
  action: Type.String(),
  project: Nullable(Type.String()),
  branch: Nullable(Type.String()),
  args: Type.Record(Type.String(), Type.Unknown(), {
    description: "the call's options, secrets left out",
  }),
  result: Type.String({ description: "ok, or the error code" }),
  durationMs: Nullable(Type.Integer()),
});
export const AuditEntries = Type.Array(AuditEntry);

export const MigrationItem = Type.Object({ name: Type.String(), checksum: Type.String() });
export const Migrations = Type.Array(MigrationItem);
export const ApplyMigrationBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, description: "e.g. 0001_add_orders.sql" }),
    sql: Type.String({ maxLength: 512 * 1024 }),
  },
  { additionalProperties: false },
);
export const AppliedMigration = Type.Object({
  name: Type.String(),
  checksum: Type.String(),
  applied: Type.Boolean({ description: "false when it was already applied" }),
  branch: Type.String(),
});

export const Status = Type.Object({
  home: Type.String(),
  cloneDriver: Type.Union([Type.Literal("reflink"), Type.Literal("copy")]),
  cloneDriverReason: Type.String(),
  store: Nullable(
    Type.Object(
      {
        image: Type.String(),
        mountpoint: Type.String(),
        mounted: Type.Boolean(),
        loopDevice: Nullable(Type.String()),
        sizeBytes: Type.Integer(),
        allocatedBytes: Type.Integer(),
        usedBytes: Nullable(Type.Integer()),
      },
      {
        description:
          "the sparse XFS image (reflink) the branches live in, on filesystems without reflink",
      },
    ),
  ),
  postgresVersion: Type.String(),
  postgresBinDir: Type.String(),
  runAsUser: Nullable(Type.String()),
  projects: Type.Integer(),
  serverUrl: Nullable(Type.String()),
  clusters: Type.Array(
    Type.Object({
      project: Type.String(),
      branch: Type.String(),
      port: Type.Integer(),
      running: Type.Boolean(),
      crashed: Type.Boolean(),
      osUser: Nullable(Type.String()),
    }),
  ),
});

export const OperationInfo = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: "e.g. branch.create, branch.merge" }),
  status: Type.Union([Type.Literal("running"), Type.Literal("succeeded"), Type.Literal("failed")]),
  statusUrl: Type.String(),
  startedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  /** What the route answers with ?wait=true, once succeeded. */
  result: Type.Optional(Type.Unknown()),
  /** The error the route answers with ?wait=true (and its HTTP status), once failed. */
  error: Type.Optional(Type.Object({ status: Type.Integer(), ...ErrorBody.properties })),
});

export type ErrorBodyT = Static<typeof ErrorBody>;
export type ProjectT = Static<typeof Project>;
export type ProjectDetailT = Static<typeof ProjectDetail>;
export type BranchInfoT = Static<typeof BranchInfo>;
export type BranchListItemT = Static<typeof BranchListItem>;
export type BranchDetailT = Static<typeof BranchDetail>;
export type BranchKeysT = Static<typeof BranchKeys>;
export type CreateBranchBodyT = Static<typeof CreateBranchBody>;
export type SetBranchBodyT = Static<typeof SetBranchBody>;
export type CreatedBranchT = Static<typeof CreatedBranch>;
export type DiffReportT = Static<typeof DiffReport>;
export type MergeReportT = Static<typeof MergeReport>;
export type MergeBodyT = Static<typeof MergeBody>;
export type UndoBodyT = Static<typeof UndoBody>;
export type MergeInfoT = Static<typeof MergeInfo>;
export type ResolveBodyT = Static<typeof ResolveBody>;
export type ResolveReportT = Static<typeof ResolveReport>;
export type MigrationItemT = Static<typeof MigrationItem>;
export type AppliedMigrationT = Static<typeof AppliedMigration>;
export type StatusT = Static<typeof Status>;
export type BranchHistoryT = Static<typeof BranchHistory>;
export type AuditEntryT = Static<typeof AuditEntry>;
export type AuditQueryT = Static<typeof AuditQuery>;
export type OperationInfoT = Static<typeof OperationInfo>;
