/**
 * Which fingerprint fields the snapshot models, per key prefix: a change of any other
 * field (or of any field of an entry without a snapshot object) is one bough cannot
 * merge yet. "all" = nothing of such an entry is modelled.
 */
const UNMODELLED: Record<string, readonly string[] | "all"> = {
  schema: ["owner"],
  extension: [],
  collation: ["owner"],
  event_trigger: ["owner"],
  class: ["owner", "replica_identity", "access_method", "tablespace", "of_type"],
  column: ["storage", "statistics_target", "compression", "options", "fdw_options"],
  identity: [],
  sequence: [],
  constraint: [],
  not_null: ["validated", "no_inherit"],
  index: ["clustered", "replica_identity"],
  trigger: [],
  policy: [],
  function: ["owner"],
  type: ["owner"],
  comment: [],
  range: "all",
  rule: "all",
  statistics: "all",
  publication: ["owner"],
  publication_rel: [],
  publication_schema: [],
  foreign_table: "all",
  default_acl: "all",
  object: "all",
};

export const keyPrefix = (key: string) => key.slice(0, key.indexOf(":"));

/** True when a change of `field` in the entry `key` can be carried by a snapshot change. */
export function isModelled(key: string, field: string): boolean {
  const unmodelled = UNMODELLED[keyPrefix(key)] ?? "all";
  return unmodelled !== "all" && !unmodelled.includes(field);
}
