import { lstat, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

/** Files under dir (not following links) whose bytes contain needle, relative to dir. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const bytes = Buffer.from(needle);
  const hits: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isDirectory()) {
      for (const e of await readdir(path)) await walk(join(path, e));
    } else if (st.isFile() && (await readFile(path)).includes(bytes)) {
      hits.push(relative(dir, path));
    }
  };
  await walk(dir);
  return hits.sort();
}
