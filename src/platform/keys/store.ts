import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

// The only module that touches key files: everything secret bough keeps outside the
// databases (branch API keys, a project's JWT secret) is a 0600 file in a 0700 directory
// under the home, so only the home's owner reads them (postmasters run as another user).

/** Directory of one project's key files. */
export function projectKeysDir(home: string, project: string): string {
  return join(home, "keys", project);
}

/** Reads a key file, or null when it does not exist. */
export async function readKeyFile(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Writes a key file atomically (temp file + rename), mode 0600, its directories 0700. */
export async function writeKeyFile(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to directories it creates, and is masked by the umask.
  await chmod(dir, 0o700);
  await chmod(dirname(dir), 0o700);
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: "wx" });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Removes a key file or directory; safe to repeat. */
export async function removeKeyFiles(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
