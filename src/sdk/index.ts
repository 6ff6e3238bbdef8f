import type {
  CompareQueryT,
  CompareReportT,
  MaskRuleSetT,
  MaskRuleT,
  MaskRuleUnsetT,
  RestoreBodyT,
  RestoreReportT,
  SetTablePolicyBodyT,
  TablePolicyT,
} from "../interfaces/api/management/lifecycle-schemas.ts";
import type {
  CreateScheduleBodyT,
  DeletedFunctionT,
  DeletedScheduleT,
  DeployedFunctionT,
  DeployFunctionBodyT,
  EmailTemplateT,
  FunctionSummaryT,
  InvocationT,
  OutboxItemT,
  ScheduleRunT,
  ScheduleT,
  SecretItemT,
  SecretSetT,
  SecretsPolicyT,
  SecretUnsetT,
  SetSecretBodyT,
  SetTemplateBodyT,
  UpdateScheduleBodyT,
} from "../interfaces/api/management/platform-schemas.ts";
import type {
  AppliedMigrationT,
  AuditEntryT,
  AuditQueryT,
  BranchDetailT,
  BranchHistoryT,
  BranchInfoT,
  BranchKeysT,
  BranchListItemT,
  CreateBranchBodyT,
  CreatedBranchT,
  DiffReportT,
  ErrorBodyT,
  MergeBodyT,
  MergeInfoT,
  MergeReportT,
  MigrationItemT,
  OperationInfoT,
  ProjectDetailT,
  ProjectT,
  ResolveBodyT,
  ResolveReportT,
  SetBranchBodyT,
  StatusT,
  UndoBodyT,
} from "../interfaces/api/management/schemas.ts";

export type {
  AppliedMigrationT as AppliedMigration,
  AuditEntryT as AuditEntry,
  AuditQueryT as AuditQuery,
  BranchDetailT as BranchDetail,
  BranchHistoryT as BranchHistory,
  BranchInfoT as BranchInfo,
  BranchKeysT as BranchKeys,
  BranchListItemT as BranchListItem,
  CompareReportT as CompareReport,
  CreatedBranchT as CreatedBranch,
  CreateScheduleBodyT as CreateScheduleBody,
  DeployedFunctionT as DeployedFunction,
  DeployFunctionBodyT as DeployFunctionBody,
  DiffReportT as DiffReport,
  EmailTemplateT as EmailTemplate,
  FunctionSummaryT as FunctionSummary,
  InvocationT as Invocation,
  MaskRuleSetT as MaskRuleSet,
  MaskRuleT as MaskRule,
  MergeReportT as MergeReport,
  MigrationItemT as MigrationItem,
  OperationInfoT as OperationInfo,
  OutboxItemT as OutboxItem,
  ProjectDetailT as ProjectDetail,
  ProjectT as Project,
  RestoreBodyT as RestoreBody,
  RestoreReportT as RestoreReport,
  ScheduleRunT as ScheduleRun,
  ScheduleT as Schedule,
  SecretItemT as SecretItem,
  SecretsPolicyT as SecretsPolicy,
  SetTablePolicyBodyT as SetTablePolicyBody,
  StatusT as Status,
  TablePolicyT as TablePolicy,
  UpdateScheduleBodyT as UpdateScheduleBody,
};

export interface BoughOptions {
  /** The server's base URL, as `bough status --json` gives it (`serverUrl`). */
  url: string;
  /** An admin key (`bough admin-key create NAME`). */
  key: string;
  /** Another fetch (tests, proxies); default the global one. */
  fetch?: typeof fetch;
}

/** An error answer of the management API: the CLI's stable code, a message and a hint. */
export class BoughApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string;
  readonly details?: unknown;

  constructor(status: number, body: ErrorBodyT) {
    super(body.message);
    this.name = "BoughApiError";
    this.status = status;
    this.code = body.code;
    this.hint = body.hint;
    this.details = body.details;
  }
}

const seg = encodeURIComponent;
/** `?a=1&b=x` of the options that are set, or "". */
const query = (o: Record<string, string | number | undefined>) => {
  const set = Object.entries(o).filter((e): e is [string, string | number] => e[1] !== undefined);
  return set.length === 0 ? "" : `?${new URLSearchParams(set.map(([k, v]) => [k, String(v)]))}`;
};
const branchPath = (project: string, branch: string) =>
  `/v1/projects/${seg(project)}/branches/${seg(branch)}`;
const schedulePath = (project: string, branch: string, name: string) =>
  `${branchPath(project, branch)}/schedules/${seg(name)}`;
const limitQuery = (o: { limit?: number }) => (o.limit === undefined ? "" : `?limit=${o.limit}`);

/**
 * A typed client of bough's management API (`/v1`). Long operations (create, reset,
 * merge) wait for their result (`?wait=true`); errors throw BoughApiError.
 *
 * @example
 * const bough = new Bough({ url: "http://127.0.0.1:8420", key: process.env.BOUGH_ADMIN_KEY! });
 * await bough.branches.create("default", { name: "feature-x" });
 * const preview = await bough.branches.merge("default", "feature-x", { dryRun: true });
 */
export class Bough {
  private readonly o: BoughOptions;

  constructor(o: BoughOptions) {
    this.o = { ...o, url: o.url.replace(/\/+$/u, "") };
  }

  readonly projects = {
    list: () => this.call<ProjectT[]>("GET", "/v1/projects"),
    create: (name: string) => this.call<ProjectT>("POST", "/v1/projects?wait=true", { name }),
    get: (project: string) => this.call<ProjectDetailT>("GET", `/v1/projects/${seg(project)}`),
    delete: (project: string) =>
      this.call<{ deleted: string }>("DELETE", `/v1/projects/${seg(project)}`),
  };

  readonly branches = {
    list: (project: string) =>
      this.call<BranchListItemT[]>("GET", `/v1/projects/${seg(project)}/branches`),
    create: (project: string, body: CreateBranchBodyT) =>
      this.call<CreatedBranchT>("POST", `/v1/projects/${seg(project)}/branches?wait=true`, body),
    get: (project: string, branch: string) =>
      this.call<BranchDetailT>("GET", branchPath(project, branch)),
    delete: (project: string, branch: string, o: { recursive?: boolean } = {}) =>
      this.call<{ deleted: string[] }>(
        "DELETE",
        `${branchPath(project, branch)}${o.recursive ? "?recursive=true" : ""}`,
      ),
    start: (project: string, branch: string) =>
      this.call<BranchInfoT>("POST", `${branchPath(project, branch)}/start`),
    stop: (project: string, branch: string) =>
      this.call<BranchInfoT>("POST", `${branchPath(project, branch)}/stop`),
    reset: (project: string, branch: string, o: { toParent?: boolean } = {}) =>
      this.call<BranchInfoT>(
        "POST",
        `${branchPath(project, branch)}/reset?wait=true${o.toParent ? "&toParent=true" : ""}`,
      ),
    /** Expiry: `{ expiresIn: "2h" }`, `{ expiresAt: ISO }` or `{ noExpiry: true }`. */
    set: (project: string, branch: string, o: SetBranchBodyT) =>
      this.call<BranchInfoT>("PATCH", branchPath(project, branch), o),
    protect: (project: string, branch: string) =>
      this.call<BranchInfoT>("POST", `${branchPath(project, branch)}/protect`),
    unprotect: (project: string, branch: string) =>
      this.call<BranchInfoT>("POST", `${branchPath(project, branch)}/unprotect`),
    rename: (project: string, branch: string, newName: string) =>
      this.call<BranchInfoT>("POST", `${branchPath(project, branch)}/rename`, { newName }),
    keys: (project: string, branch: string) =>
      this.call<BranchKeysT>("GET", `${branchPath(project, branch)}/keys`),
    rotateKeys: (project: string, branch: string) =>
      this.call<BranchKeysT>("POST", `${branchPath(project, branch)}/keys/rotate`),
    diff: (project: string, branch: string) =>
      this.call<DiffReportT>("GET", `${branchPath(project, branch)}/diff`),
    /** A blocked merge throws BoughApiError 409 MERGE_CONFLICT, the report in `details`. */
    merge: (project: string, branch: string, o: MergeBodyT = {}) =>
      this.call<MergeReportT>("POST", `${branchPath(project, branch)}/merge?wait=true`, {
        ...o,
        dryRun: o.dryRun ?? false,
      }),
    /** The parent's changes since the last merge, onto the branch. */
    rebase: (project: string, branch: string, o: Omit<MergeBodyT, "into"> = {}) =>
      this.call<MergeReportT>("POST", `${branchPath(project, branch)}/rebase?wait=true`, {
        ...o,
        dryRun: o.dryRun ?? false,
      }),
    /** Records which side wins one conflict; the branch's next merge uses it. */
    resolve: (project: string, branch: string, r: ResolveBodyT) =>
      this.call<ResolveReportT>("POST", `${branchPath(project, branch)}/resolutions`, r),
    /** The branch back to its own past; its state before is kept as a child unless `noBackup`. */
    restore: (project: string, branch: string, o: RestoreBodyT) =>
      this.call<RestoreReportT>("POST", `${branchPath(project, branch)}/restore?wait=true`, o),
    /** Two-way schema diff: what `other` (as it was at `at`/`lsn`, else now) has that `branch` has not. */
    compare: (project: string, branch: string, other: string, o: CompareQueryT = {}) =>
      this.call<CompareReportT>(
        "GET",
        `${branchPath(project, branch)}/diff/${seg(other)}${query({ at: o.at, lsn: o.lsn })}`,
      ),
    /** The DDL statements run on the branch since its fork, oldest first. */
    history: (project: string, branch: string, o: { since?: string } = {}) =>
      this.call<BranchHistoryT>("GET", `${branchPath(project, branch)}/history${query(o)}`),
  };

  readonly merges = {
    /** Applied merges (merge, into, rebase), newest first. */
    list: (project: string) =>
      this.call<MergeInfoT[]>("GET", `/v1/projects/${seg(project)}/merges`),
    /** Reverts one; a conflict throws BoughApiError 409 MERGE_CONFLICT, the report in `details`. */
    undo: (project: string, id: number, o: UndoBodyT = {}) =>
      this.call<MergeReportT>("POST", `/v1/projects/${seg(project)}/merges/${id}/undo?wait=true`, {
        ...o,
        dryRun: o.dryRun ?? false,
      }),
  };

  readonly migrations = {
    list: (project: string, branch: string) =>
      this.call<MigrationItemT[]>("GET", `${branchPath(project, branch)}/migrations`),
    apply: (project: string, branch: string, m: { name: string; sql: string }) =>
      this.call<AppliedMigrationT>("POST", `${branchPath(project, branch)}/migrations`, m),
  };

  /** Masking rules that a create with `mask: true` from the branch applies. */
  readonly masks = {
    list: (project: string, branch: string) =>
      this.call<MaskRuleT[]>("GET", `${branchPath(project, branch)}/mask-rules`),
    set: (project: string, branch: string, column: string, rule: string) =>
      this.call<MaskRuleSetT>("PUT", `${branchPath(project, branch)}/mask-rules/${seg(column)}`, {
        rule,
      }),
    unset: (project: string, branch: string, column: string) =>
      this.call<MaskRuleUnsetT>(
        "DELETE",
        `${branchPath(project, branch)}/mask-rules/${seg(column)}`,
      ),
  };

  /** How tables' rows merge: upsert, merge-rows or ignore. */
  readonly tablePolicies = {
    list: (project: string, branch: string) =>
      this.call<TablePolicyT[]>("GET", `${branchPath(project, branch)}/table-policies`),
    set: (project: string, branch: string, table: string, body: SetTablePolicyBodyT) =>
      this.call<TablePolicyT>(
        "PUT",
        `${branchPath(project, branch)}/table-policies/${seg(table)}`,
        body,
      ),
  };

  readonly functions = {
    list: (project: string, branch: string) =>
      this.call<FunctionSummaryT[]>("GET", `${branchPath(project, branch)}/functions`),
    deploy: (project: string, branch: string, name: string, body: DeployFunctionBodyT) =>
      this.call<DeployedFunctionT>(
        "PUT",
        `${branchPath(project, branch)}/functions/${seg(name)}`,
        body,
      ),
    delete: (project: string, branch: string, name: string) =>
      this.call<DeletedFunctionT>(
        "DELETE",
        `${branchPath(project, branch)}/functions/${seg(name)}`,
      ),
    invocations: (project: string, branch: string, name: string, o: { limit?: number } = {}) =>
      this.call<InvocationT[]>(
        "GET",
        `${branchPath(project, branch)}/functions/${seg(name)}/invocations${limitQuery(o)}`,
      ),
  };

  readonly schedules = {
    list: (project: string, branch: string) =>
      this.call<ScheduleT[]>("GET", `${branchPath(project, branch)}/schedules`),
    create: (project: string, branch: string, body: CreateScheduleBodyT) =>
      this.call<ScheduleT>("POST", `${branchPath(project, branch)}/schedules`, body),
    update: (project: string, branch: string, name: string, body: UpdateScheduleBodyT) =>
      this.call<ScheduleT>("PATCH", schedulePath(project, branch, name), body),
    pause: (project: string, branch: string, name: string) =>
      this.call<ScheduleT>("POST", `${schedulePath(project, branch, name)}/pause`),
    /** Arms the job on this branch: a copied or merged-in job fires only once resumed there. */
    resume: (project: string, branch: string, name: string) =>
      this.call<ScheduleT>("POST", `${schedulePath(project, branch, name)}/resume`),
    delete: (project: string, branch: string, name: string) =>
      this.call<DeletedScheduleT>("DELETE", schedulePath(project, branch, name)),
    runs: (project: string, branch: string, name: string, o: { limit?: number } = {}) =>
      this.call<ScheduleRunT[]>(
        "GET",
        `${schedulePath(project, branch, name)}/runs${limitQuery(o)}`,
      ),
    runNow: (project: string, branch: string, name: string) =>
      this.call<ScheduleRunT>("POST", `${schedulePath(project, branch, name)}/run`),
  };

  /** Values go in and never come out: list gives names and metadata. */
  readonly secrets = {
    list: (project: string, branch: string) =>
      this.call<SecretItemT[]>("GET", `${branchPath(project, branch)}/secrets`),
    set: (project: string, branch: string, key: string, body: SetSecretBodyT) =>
      this.call<SecretSetT>("PUT", `${branchPath(project, branch)}/secrets/${seg(key)}`, body),
    unset: (project: string, branch: string, key: string) =>
      this.call<SecretUnsetT>("DELETE", `${branchPath(project, branch)}/secrets/${seg(key)}`),
    policy: (project: string) =>
      this.call<SecretsPolicyT>("GET", `/v1/projects/${seg(project)}/secrets/policy`),
    setPolicy: (project: string, policy: SecretsPolicyT["policy"]) =>
      this.call<SecretsPolicyT>("PUT", `/v1/projects/${seg(project)}/secrets/policy`, { policy }),
  };

  readonly email = {
    outbox: (project: string, branch: string, o: { limit?: number } = {}) =>
      this.call<OutboxItemT[]>(
        "GET",
        `${branchPath(project, branch)}/email/outbox${limitQuery(o)}`,
      ),
    templates: (project: string, branch: string) =>
      this.call<EmailTemplateT[]>("GET", `${branchPath(project, branch)}/email/templates`),
    setTemplate: (project: string, branch: string, type: string, body: SetTemplateBodyT) =>
      this.call<EmailTemplateT>(
        "PUT",
        `${branchPath(project, branch)}/email/templates/${seg(type)}`,
        body,
      ),
  };

  readonly operations = {
    get: (id: string) => this.call<OperationInfoT>("GET", `/v1/operations/${seg(id)}`),
  };

  readonly audit = {
    /** The newest `limit` (default 100) audit lines matching the filters, oldest first. */
    list: (q: AuditQueryT = {}) => this.call<AuditEntryT[]>("GET", `/v1/audit${query(q)}`),
  };

  readonly status = () => this.call<StatusT>("GET", "/v1/status");

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await (this.o.fetch ?? fetch)(`${this.o.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.o.key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = (await res.json()) as unknown;
    if (!res.ok) throw new BoughApiError(res.status, data as ErrorBodyT);
    return data as T;
  }
}
