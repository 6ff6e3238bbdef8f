/**
 * Reading a stored snapshot (a branch's merge base) written by an older bough. Version 1
 * joined unquoted names with dots in ids and wrote the PUBLIC pseudo-role as the name
 * "PUBLIC" (grants) or "public" (policies). Its objects still carry their names, so each
 * id is rebuilt from the object's own fields (catalog/ids.ts) and every reference to it
 * (deps, grant and comment targets, parent tables, OWNED BY) is mapped through the ids.
 * A version-1 grantee "PUBLIC" meant everyone (that is what version 1 merged it as);
 * a policy role "public" is the pseudo-role (Postgres reserves that role name).
 */
import { BoughError } from "../../core/errors.ts";
import { objectId, qualified, roleSpec, sortedRoles } from "./ids.ts";
import { type DbObject, SNAPSHOT_VERSION, type Snapshot } from "./snapshot.ts";

/** A snapshot from its stored JSON, upgraded to the current version. */
export function readSnapshot(json: string): Snapshot {
  const raw = JSON.parse(json) as { version?: unknown };
  if (raw.version === SNAPSHOT_VERSION) return raw as Snapshot;
  if (raw.version === 1) return upgradeV1(raw as V1Snapshot);
  throw new BoughError(
    "MERGE_FAILED",
    `the stored merge base has snapshot version ${String(raw.version)}, this bough reads up to ${SNAPSHOT_VERSION}`,
    "use the bough that created the branch, or reset the branch",
  );
}

type V1Object = Record<string, unknown> & { kind: DbObject["kind"]; id: string; deps: string[] };
type V1Snapshot = Omit<Snapshot, "version" | "objects"> & {
  version: 1;
  objects: Record<string, V1Object>;
};

function upgradeV1(v1: V1Snapshot): Snapshot {
  const old = v1.objects;
  const ids = new Map<string, string>();
  /** A version-1 "S.T" (or "S.T.C", "S.F") as the qualified name of the object `oldId` it named. */
  const requalify = (oldId: string, text: string, names: (o: V1Object) => string[]): string => {
    const o = old[oldId];
    return o ? qualified(...names(o)) : qualified(...splitAtFirstDot(text));
  };
  const table = (text: string) =>
    requalify(`table:${text}`, text, (o) => [o.schema as string, o.name as string]);
  const fixed = new Map<string, DbObject>();
  // Targets of grants and comments are never grants or comments: they are mapped first.
  const ordered = Object.values(old).sort(
    (a, b) => Number(isAttached(a.kind)) - Number(isAttached(b.kind)),
  );
  for (const o of ordered) {
    const next = upgradeFields(o, { table, requalify, ids }) as unknown as DbObject;
    const id = objectId(next);
    ids.set(o.id, id);
    fixed.set(o.id, next);
  }
  const objects: Record<string, DbObject> = {};
  for (const [oldId, o] of fixed) {
    const id = ids.get(oldId) as string;
    objects[id] = {
      ...o,
      id,
      deps: o.deps.flatMap((d) => (ids.has(d) ? [ids.get(d) as string] : [])),
    };
  }
  const sorted: Record<string, DbObject> = {};
  for (const id of Object.keys(objects).sort()) sorted[id] = objects[id];
  return { ...v1, version: SNAPSHOT_VERSION, objects: sorted };
}

const isAttached = (kind: string) => kind === "grant" || kind === "comment";

function upgradeFields(
  o: V1Object,
  h: {
    table: (text: string) => string;
    requalify: (oldId: string, text: string, names: (o: V1Object) => string[]) => string;
    ids: Map<string, string>;
  },
): V1Object {
  switch (o.kind) {
    case "table": {
      const part = o.partitionOf as { parent: string; bound: string } | null;
      return {
        ...o,
        partitionOf: part ? { ...part, parent: h.table(part.parent) } : null,
        inherits: (o.inherits as string[]).map(h.table),
      };
    }
    case "constraint":
      return { ...o, references: o.references === null ? null : h.table(o.references as string) };
    case "sequence":
      return {
        ...o,
        ownedBy:
          o.ownedBy === null
            ? null
            : h.requalify(`column:${o.ownedBy}`, o.ownedBy as string, (c) => [
                c.schema as string,
                c.table as string,
                c.name as string,
              ]),
      };
    case "event_trigger": {
      const fn = (o.function as string).replace(/\(\)$/u, "");
      const names = (f: V1Object) => [f.schema as string, f.name as string];
      return { ...o, function: `${h.requalify(`function:${fn}()`, fn, names)}()` };
    }
    case "policy":
      return {
        ...o,
        roles: sortedRoles((o.roles as string[]).map((r) => roleSpec(r === "public" ? null : r))),
      };
    case "grant":
      return {
        ...o,
        target: h.ids.get(o.target as string) ?? (o.target as string),
        grantee: roleSpec(o.grantee === "PUBLIC" ? null : (o.grantee as string)),
      };
    case "comment":
      return { ...o, target: h.ids.get(o.target as string) ?? (o.target as string) };
    default:
      return o;
  }
}

function splitAtFirstDot(text: string): string[] {
  const dot = text.indexOf(".");
  return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
}
