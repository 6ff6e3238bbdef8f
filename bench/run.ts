/**
 * `npm run bench [-- --sizes 0.1,1,4] [--plain-sizes 0.1,1] [--only create|merge]`
 *
 * Side by side in one run: bough branch create / first query / reset / disk added,
 * versus pg_dump|pg_restore and CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY,
 * on a loop-mounted XFS image with reflink (as root) and on the plain filesystem.
 * Prints a table with ratios and writes bench/results/<time>.json.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import { mountLoopXfs } from "../test/helpers/xfs.ts";
import { benchFilesystem, type SizeResult } from "./create-reset.ts";
import { benchMerge } from "./merge.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "0.1,1,4" },
    "plain-sizes": { type: "string" },
    only: { type: "string" },
  },
});
const sizes = (values.sizes ?? "")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const plainSizes = (values["plain-sizes"] ?? values.sizes ?? "")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);

// pg_dump must match the server: the embedded install ships none, so the comparison runs
// on a distribution's Postgres when one is installed (apt-get install postgresql).
if (!process.env.BOUGH_PG_BIN) {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  const withDump = versions.find((v) => existsSync(join(base, v, "bin", "pg_dump")));
  if (withDump) process.env.BOUGH_PG_BIN = join(base, withDump, "bin");
  else
    process.stderr.write(
      "no pg_dump found: dump/restore column will be empty (apt-get install postgresql)\n",
    );
}

const fmtS = (s: number | null) =>
  s === null ? "n/a" : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
const fmtMb = (b: number | null) => (b === null ? "unknown" : `${(b / 1024 ** 2).toFixed(1)} MB`);
const ratio = (a: number | null, b: number) => (a === null ? "n/a" : `${(a / b).toFixed(0)}×`);

function printCreateTable(results: SizeResult[]) {
  const table = new Table({
    head: [
      "FS (driver)",
      "DB size",
      "bough create",
      "+ first query",
      "reset",
      "branch disk",
      "dump|restore",
      "TEMPLATE copy",
      "vs dump",
      "vs template",
    ],
    style: { head: [], border: [] },
  });
  for (const r of results) {
    table.push([
      `${r.filesystem} (${r.cloneDriver})`,
      fmtMb(r.actualBytes),
      fmtS(r.boughCreateS),
      fmtS(r.boughCreatePlusQueryS),
      fmtS(r.boughResetS),
      fmtMb(r.branchDiskBytes),
      fmtS(r.dumpRestoreS),
      fmtS(r.templateCopyS),
      ratio(r.dumpRestoreS, r.boughCreatePlusQueryS),
      ratio(r.templateCopyS, r.boughCreatePlusQueryS),
    ]);
  }
  process.stdout.write(`${table.toString()}\n`);
  process.stdout.write(
    "ratios: how many times longer the alternative takes than bough create + first query\n",
  );
}

async function main() {
  const out: Record<string, unknown> = {
    at: new Date().toISOString(),
    pgBin: process.env.BOUGH_PG_BIN ?? "embedded",
  };
  if (values.only !== "merge") {
    const results: SizeResult[] = [];
    const xfs = await mountLoopXfs({
      sizeMb: Math.max(8192, Math.ceil(Math.max(...sizes) * 4.5 * 1024)),
    });
    if (xfs.ok) {
      try {
        results.push(
          ...(await benchFilesystem({ label: "xfs-loop", baseDir: xfs.dir, sizesGb: sizes })),
        );
      } finally {
        await xfs.cleanup();
      }
    } else {
      process.stdout.write(`reflink bench skipped: ${xfs.reason}\n`);
    }
    results.push(
      ...(await benchFilesystem({ label: "plain", baseDir: tmpdir(), sizesGb: plainSizes })),
    );
    printCreateTable(results);
    out.createReset = results;
  }
  if (values.only !== "create") out.merge = await benchMerge();
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
}

await main();
