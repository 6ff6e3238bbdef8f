import { RestError } from "../errors.ts";
import type { Column, FunctionDef, Relation, SchemaCache } from "../schema-cache.ts";
import { type Params, qi, qualified } from "./params.ts";

const JSON_TYPES = new Set(["json", "jsonb"]);

const oneJsonArg = (f: FunctionDef) => f.args.length === 1 && JSON_TYPES.has(f.args[0].type);
/** A function's single unnamed json argument takes the whole body (as PostgREST). */
const takesWholeBody = (f: FunctionDef) => oneJsonArg(f) && f.args[0].name === "";

/**
 * The overload of schema.name that `keys` (the body's or GET's argument names) call:
 * every key an argument, every argument without a default given. None → PGRST202 (404),
 * several → PGRST203 (300), as PostgREST.
 */
export function pickFunction(
  cache: SchemaCache,
  o: { schema: string; name: string; keys: string[]; singleObject: boolean },
): FunctionDef {
  const all = cache.functions.get(`${o.schema}.${o.name}`) ?? [];
  const fits = (f: FunctionDef) =>
    takesWholeBody(f) ||
    (o.singleObject && oneJsonArg(f)) ||
    (o.keys.every((k) => f.args.some((a) => a.name === k)) &&
      f.args.every((a) => a.hasDefault || o.keys.includes(a.name)));
  const found = all.filter(fits);
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    const withArgs =
      o.keys.length > 0 ? `with parameters ${o.keys.join(", ")}` : "without parameters";
    throw new RestError({
      status: 404,
      code: "PGRST202",
      message: `Could not find the function ${o.schema}.${o.name}(${o.keys.join(", ")}) in the schema cache`,
      details: `Searched for the function ${o.schema}.${o.name} ${withArgs}, but no matches were found in the schema cache.`,
      hint: null,
    });
  }
  throw new RestError({
    status: 300,
    code: "PGRST203",
    message: `Could not choose the best candidate function between: ${found.map((f) => `${o.schema}.${o.name}(${f.args.map((a) => `${a.name} => ${a.type}`).join(", ")})`).join(", ")}`,
    hint: "Try renaming the parameters or the function itself in the database so function overloading can be resolved",
  });
}

/**
 * The call as a derived table of its result rows (`_r.*` for rows, one column `v` for
 * scalars). Arguments come from one JSON parameter through json_to_record, typed by the
 * function's own argument types (catalog text), so no value reaches the SQL text.
 */
export function callFrom(
  p: Params,
  f: FunctionDef,
  args: Record<string, unknown>,
  wholeBody: boolean,
): string {
  const fn = qualified(f);
  const proj = f.returns.kind === "composite" ? "_r.*" : "_r AS v";
  if (takesWholeBody(f) || (wholeBody && oneJsonArg(f))) {
    return `(SELECT ${proj} FROM ${fn}(${p.add(JSON.stringify(args))}::${f.args[0].type}) AS _r)`;
  }
  const given = f.args.filter((a) => Object.hasOwn(args, a.name));
  if (given.length === 0) return `(SELECT ${proj} FROM ${fn}() AS _r)`;
  const record = given.map((a) => `${qi(a.name)} ${a.type}`).join(", ");
  const named = given.map((a) => `${qi(a.name)} := _a.${qi(a.name)}`).join(", ");
  return `(SELECT ${proj} FROM json_to_record(${p.add(JSON.stringify(args))}::json) AS _a(${record}) CROSS JOIN LATERAL ${fn}(${named}) AS _r)`;
}

/** A relation-like view of a function's result columns, so select=, filters and order apply. */
export function resultRelation(cache: SchemaCache, f: FunctionDef): Relation | null {
  if (f.returns.kind !== "composite") return null;
  const real = f.returns.relation ? cache.relations.get(f.returns.relation) : undefined;
  if (real) return real;
  const columns = new Map<string, Column>(
    f.returns.columns.map((c) => [c, { name: c, type: "", hasDefault: false }]),
  );
  return { schema: f.schema, name: f.name, kind: "view", columns, pk: [], uniques: [] };
}
