import { BoughError } from "../../core/errors.ts";

/** Supabase's function slug rule: a letter, then letters, digits, `-` or `_`. */
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** A relative path of plain segments: no `..`, no absolute path, nothing a shell or URL would read. */
const PATH_RE = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Names the runtime's own modules use beside the function's files. */
const RESERVED_PREFIX = "__bough";
/** Supabase caps a bundled function at 20 MB; source is smaller than its bundle. */
export const MAX_SOURCE_BYTES = 10 << 20;

export function validateFunctionName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new BoughError(
      "INVALID_NAME",
      `invalid function name ${JSON.stringify(name)}`,
      "function names are 1-63 characters: letters, digits, - and _, starting with a letter (e.g. send-invoice)",
    );
  }
  return name;
}

/** Checks a function's files and entrypoint before anything is written or run. */
export function validateSource(files: Record<string, string>, entrypoint: string): void {
  const paths = Object.keys(files);
  if (paths.length === 0) {
    throw new BoughError("INVALID_INPUT", "the function has no files", "pass --file F or --dir D");
  }
  for (const p of paths) {
    if (
      !PATH_RE.test(p) ||
      p.split("/").some((s) => s === "." || s === "..") ||
      p.startsWith(RESERVED_PREFIX)
    ) {
      throw new BoughError(
        "INVALID_INPUT",
        `file path ${JSON.stringify(p)} is not allowed in a function`,
        "use relative paths of letters, digits, '.', '-' and '_' (no '..', not starting with __bough)",
      );
    }
  }
  if (!(entrypoint in files)) {
    throw new BoughError(
      "INVALID_INPUT",
      `entrypoint ${JSON.stringify(entrypoint)} is not among the function's files`,
      `files: ${paths.sort().join(", ")}; pass --entrypoint PATH`,
    );
  }
  const size = Object.values(files).reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (size > MAX_SOURCE_BYTES) {
    throw new BoughError(
      "INVALID_INPUT",
      `the function's source is ${size} bytes, over the ${MAX_SOURCE_BYTES}-byte limit`,
      "deploy only the function's own files (dependencies come from npm:/jsr: imports)",
    );
  }
}

export const functionNotFound = (name: string) =>
  new BoughError(
    "FUNCTION_NOT_FOUND",
    `function "${name}" is not deployed on this branch`,
    "deploy it with `bough functions deploy NAME --file F --branch B` (or merge the branch that has it)",
  );
