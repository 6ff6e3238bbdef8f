/** Shared record types of the control plane; plain data, no I/O. */

export type BranchState =
  | "creating"
  | "ready"
  | "merging"
  | "merged"
  | "conflicted"
  | "resetting"
  | "deleting"
  /** The recovery of an interrupted operation on it failed (see lastError): `bough repair`. */
  | "failed";

export type BranchMode = "full" | "schema-only";

export interface Project {
  id: number;
  name: string;
  /** Password of the `postgres` role, shared by every branch (clones share pg_authid). */
  password: string;
  createdAt: string;
}

export interface Branch {
  id: number;
  projectId: number;
  name: string;
  parentId: number | null;
  mode: BranchMode;
  state: BranchState;
  port: number;
  /**
   * Whether bough wants it running (`up` starts it again). One that should run but whose
   * postmaster died, leaving its postmaster.pid, has crashed; a clean stop is not a crash.
   */
  wantRunning: boolean;
  createdAt: string;
  /** T0: when and at which parent LSN the branch forked (null for main). */
  forkedAt: string | null;
  forkLsn: string | null;
  /** Last error of a failed operation (merge, start), shown by `branch show`. */
  lastError: string | null;
  /** Its data was masked (`branch create --mask`, or cloned from a masked branch). */
  masked: boolean;
  /** Idle timeout of scale to zero: null is the default (DEFAULT_SUSPEND_AFTER_MS, never for main), 0 never. */
  suspendAfterMs: number | null;
  /** When `bough up` stopped it for idleness (null once it starts again): shown as `idle`. */
  suspendedAt: string | null;
}
