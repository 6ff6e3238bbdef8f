import type {
  AppliedMigrationT,
  BranchDetailT,
  BranchInfoT,
  BranchKeysT,
  BranchListItemT,
  CreateBranchBodyT,
  CreatedBranchT,
  DiffReportT,
  ErrorBodyT,
  MergeBodyT,
  MergeReportT,
  MigrationItemT,
  OperationInfoT,
  ProjectDetailT,
  ProjectT,
  ResolveBodyT,
  ResolveReportT,
  StatusT,
} from "../interfaces/api/management/schemas.ts";

export type {
  AppliedMigrationT as AppliedMigration,
  BranchDetailT as BranchDetail,
  BranchInfoT as BranchInfo,
  BranchKeysT as BranchKeys,
  BranchListItemT as BranchListItem,
  CreatedBranchT as CreatedBranch,
  DiffReportT as DiffReport,
  MergeReportT as MergeReport,
  MigrationItemT as MigrationItem,
  OperationInfoT as OperationInfo,
  ProjectDetailT as ProjectDetail,
  ProjectT as Project,
  StatusT as Status,
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
const branchPath = (project: string, branch: string) =>
  `/v1/projects/${seg(project)}/branches/${seg(branch)}`;

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
    reset: (project: string, branch: string) =>
      this.call<BranchInfoT>("POST", `${branchPath(project, branch)}/reset?wait=true`),
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
  };

  readonly migrations = {
    list: (project: string, branch: string) =>
      this.call<MigrationItemT[]>("GET", `${branchPath(project, branch)}/migrations`),
    apply: (project: string, branch: string, m: { name: string; sql: string }) =>
      this.call<AppliedMigrationT>("POST", `${branchPath(project, branch)}/migrations`, m),
  };

  readonly operations = {
    get: (id: string) => this.call<OperationInfoT>("GET", `/v1/operations/${seg(id)}`),
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
