/**
 * Secrets of a home (each project's superuser password; later API keys and JWT secrets),
 * one file each under `<home>/secrets`: the directories 0700, the files 0600, owned by the
 * user who runs bough. Kept out of control.db so the control plane holds nothing that
 * lets anyone in, and the postmaster user (which needs none of them) cannot read them.
 *
 * A secret's name is a relative path of safe segments, e.g. `projects/default/postgres-password`.
 *
 * @example writeSecret(dir, "projects/app/jwt-secret", key); readSecret(dir, "projects/app/jwt-secret")
 */

import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { BoughError } from "../core/errors.ts";

// Starting with a letter or digit, a segment can never be "." or "..".
const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,127}$/;

function secretPath(dir: string, name: string): string {
  const segments = name.split("/");
  if (!segments.every((s) => SEGMENT.test(s))) {
    throw new BoughError(
      "INTERNAL",
      `invalid secret name ${JSON.stringify(name)}`,
      "secret names are /-separated segments of lowercase letters, digits, '.', '_' and '-'",
    );
  }
  return join(dir, ...segments);
}

/** The secret's value, or null when it was never written. */
export function readSecret(dir: string, name: string): string | null {
  try {
    return readFileSync(secretPath(dir, name), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Writes a secret atomically (temp file created 0600 with O_EXCL, fsynced, renamed): a
 * crash leaves the old value or the new one, never a torn or world-readable file.
 */
export function writeSecret(dir: string, name: string, value: string): void {
  const file = secretPath(dir, name);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, value);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** Removes a secret or a whole group of them (`projects/app`); absent is fine. */
export function removeSecrets(dir: string, name: string): void {
  rmSync(secretPath(dir, name), { recursive: true, force: true });
}

/**
 * Makes the secrets directory owner-only, and every directory (0700) and file (0600) in it:
 * homes made before the directory existed or by hand get the same guarantee.
 */
export function tightenSecrets(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    chmodSync(path, st.isDirectory() ? 0o700 : 0o600);
    if (st.isDirectory()) for (const e of readdirSync(path)) walk(join(path, e));
  };
  walk(dir);
}
