import type { Snapshot } from "../catalog/snapshot.ts";
import type { RenameHint } from "../renames/hints.ts";
import type { Conversions, Hazard } from "../render/sql/step.ts";

export type { Hazard } from "../render/sql/step.ts";

export type Layer = "migration" | "ddl" | "data";

/** One SQL statement of a merge, with the object it changes and what it risks. */
export interface Statement {
  layer: Layer;
  sql: string;
  /** Identity of the object (or config row) it changes, e.g. "column:public.t.c". */
  objectId: string;
  /**
   * What made it: the change type ("create", "drop", "alter", "row-upsert", ...),
   * "recreate" for a dependent rebuilt because of another change, "retype" for a type
   * rebuilt in place, "migration", or "setting".
   */
  changeKind: string;
  hazards: Hazard[];
  /** Short remarks for the reviewer (why it is recreated, what a drop cannot tell). */
  notes: string[];
}

export interface Plan {
  statements: Statement[];
  /** snapshotHash of the parent the plan was computed for; apply refuses a parent that moved. */
  parentHash: string;
  /** True when the diff has conflicts: the statements are shown, never run. */
  blocked: boolean;
}

export interface PlanContext {
  base: Snapshot;
  parent: Snapshot;
  branch: Snapshot;
  /** The branch's recorded migrations the parent lacks, replayed first, verbatim. */
  migrations?: { name: string; sql: string }[];
  /**
   * Rename hints, run after the migrations and before the DDL; `parent` (and the diff)
   * must describe the parent with them already applied.
   */
  renames?: RenameHint[];
  /** Column id → the branch's own USING expression for its type change (see merge/conversions.ts). */
  conversions?: Conversions;
}
