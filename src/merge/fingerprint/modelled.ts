/**
 * Which fingerprint fields the snapshot models, per key prefix: a change of any other
 * field (or of any field of an entry without a snapshot object) is one bough cannot
 * merge yet. "all" = nothing of such an entry is modelled.
 */
const UNMODELLED: Record<string, readonly string[] | "all"> = {
  schema: [],
  extension: [],
  collation: [],
  event_trigger: [],
  class: ["access_method", "tablespace", "of_type"],
  column: ["compression", "options", "fdw_options"],
  identity: [],
  sequence: [],
  constraint: [],
  not_null: ["validated", "no_inherit"],
  index: ["clustered", "replica_identity"],
  trigger: [],
  policy: [],
  function: [],
  type: [],
  comment: [],
  range: [],
  rule: [],
  statistics: [],
  publication: [],
  publication_rel: [],
  publication_schema: [],
  foreign_table: "all",
  default_acl: [],
  security_label: "all",
  object: "all",
};

/**
 * Fields an entry has that the snapshot models on the entry it is `on`: an index's
 * indisreplident is its table's replica identity.
 */
const MODELLED_ON_OWNER: Record<string, readonly string[]> = {
  index: ["replica_identity"],
};

/** True when `field` of `key` is carried by a change of the entry it is on. */
export const isModelledOnOwner = (key: string, field: string) =>
  MODELLED_ON_OWNER[keyPrefix(key)]?.includes(field) ?? false;

export const keyPrefix = (key: string) => key.slice(0, key.indexOf(":"));

/** True when a change of `field` in the entry `key` can be carried by a snapshot change. */
export function isModelled(key: string, field: string): boolean {
  const unmodelled = UNMODELLED[keyPrefix(key)] ?? "all";
  return unmodelled !== "all" && !unmodelled.includes(field);
}
