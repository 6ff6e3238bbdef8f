/**
 * `npm run bench [-- --sizes 0.1,1,4] [--plain-sizes 0.1,1] [--repeat 5] [--only create|merge|merge-10k|rest|storage|functions|realtime|mask|proxy|pitr] [--rest-seconds 5] [--mask-mb 300] [--wal-sizes 16,128,512]`
 *
 * Side by side in one run: bough branch create / first query / reset / disk added,
 * versus pg_dump|pg_restore and CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY,
 * on a loop-mounted XFS image with reflink (as root), on the default install of this
 * machine (a home in the temp dir as `bough init` makes it: the store image as root on a
 * filesystem without reflink) and on the plain filesystem (the copy driver, as before the
 * store: full copies there, so fewer sizes by default); then the merge dry-run benchmark at 1,000
 * and at 10,000 tables (`--only merge-10k` alone, `--merge-runs N` timings per step); then the
 * data API against direct pg queries, storage, functions, realtime, masking, and the Postgres
 * proxy against direct connections.
 * Prints tables and writes bench/results/<time>.json.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs, promisify } from "node:util";
import { fsName } from "../src/clusters/clone-driver.ts";
import { resolveInstall } from "../src/clusters/install.ts";
import { makePaths, resolveHome } from "../src/core/paths.ts";
import { mountLoopXfs } from "../test/helpers/xfs.ts";
import { installSignalHandlers, isAborting, registerCleanup } from "./cleanup.ts";
import { benchFilesystem, type SizeResult } from "./create-reset.ts";
import { benchFunctions, functionsTable } from "./functions.ts";
import { benchMask, maskTable } from "./mask.ts";
import { benchMerge } from "./merge.ts";
import { benchPitr, pitrTable } from "./pitr.ts";
import { benchProxy, proxyTable } from "./proxy.ts";
import { benchRealtime, realtimeTable } from "./realtime.ts";
import { checkTargets, createTable, fmtS, targetsTable } from "./report.ts";
import { benchRest } from "./rest.ts";
import { benchStorage, storageTable } from "./storage.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "0.1,1,4" },
    "plain-sizes": { type: "string", default: "0.1,1" },
    repeat: { type: "string", default: "5" },
    only: { type: "string" },
    "rest-seconds": { type: "string", default: "5" },
    "wal-sizes": { type: "string", default: "16,128,512" },
    "mask-mb": { type: "string", default: "300" },
    "merge-runs": { type: "string" },
  },
});
const parseSizes = (s: string | undefined) =>
  (s ?? "")
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
const sizes = parseSizes(values.sizes);
const plainSizes = parseSizes(values["plain-sizes"]);
const repeat = Math.max(1, Number(values.repeat) || 1);
const execFileAsync = promisify(execFile);
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")}`;
const log = (line: string) => process.stderr.write(`${line}\n`);
const say = (text: string) => process.stdout.write(`${text}\n`);

// pg_dump must match the server and the embedded install ships none, so the whole bench
// (bough's clusters included) runs on a distribution's Postgres when one is installed.
if (!process.env.BOUGH_PG_BIN) {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  const withDump = versions.find((v) => existsSync(join(base, v, "bin", "pg_dump")));
  if (withDump) process.env.BOUGH_PG_BIN = join(base, withDump, "bin");
  else log("no pg_dump found: the dump|restore column will be empty (apt-get install postgresql)");
}

async function benchCreate(): Promise<SizeResult[]> {
  const results: SizeResult[] = [];
  if (sizes.length > 0) {
    const xfs = await mountLoopXfs({
      // Main, the restored copy and the template copy at the largest size, plus WAL.
      sizeMb: Math.max(8192, Math.ceil(Math.max(...sizes) * 4.5 * 1024)),
    });
    if (xfs.ok) {
      const unmount = registerCleanup(`loop XFS mount ${xfs.dir}`, xfs.cleanup);
      try {
        const label = `${await fsName(xfs.dir)} loop image`;
        results.push(
          ...(await benchFilesystem({ label, baseDir: xfs.dir, sizesGb: sizes, repeat, log })),
        );
      } finally {
        await unmount();
      }
    } else {
      say(`reflink bench skipped: ${xfs.reason}`);
    }
  }
  const plainDir = tmpdir();
  const fs = await fsName(plainDir);
  if (sizes.length > 0) {
    results.push(
      ...(await benchFilesystem({
        label: `${fs} default install`,
        baseDir: plainDir,
        sizesGb: sizes,
        repeat,
        log,
        store: "create",
      })),
    );
  }
  const label = `${fs} plain`;
  results.push(
    ...(await benchFilesystem({ label, baseDir: plainDir, sizesGb: plainSizes, repeat, log })),
  );
  say(createTable(results));
  const skipped = sizes.filter((s) => !plainSizes.includes(s));
  if (skipped.length > 0) {
    say(
      `${label}: ${skipped.join(", ")} GB skipped (full copies there; --plain-sizes ${sizes.join(",")} to measure them)`,
    );
  }
  say(targetsTable(checkTargets(results)));
  return results;
}

/**
 * The bough columns time the library calls the CLI and the API make. A `bough` command
 * also pays its own process startup (node, tsx compiling the sources): measured apart.
 */
async function cliStartupS(): Promise<number> {
  const cli = join(import.meta.dirname, "..", "bin", "bough.js");
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await execFileAsync(process.execPath, [cli, "--help"]);
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b)[1];
}

async function main() {
  installSignalHandlers();
  const install = await resolveInstall(makePaths(resolveHome()));
  const postgres = `PostgreSQL ${install.version} from ${install.binDir}${process.env.BOUGH_PG_BIN ? " (BOUGH_PG_BIN)" : " (embedded)"}`;
  const machine = `${cpus().length} CPUs, ${(totalmem() / 1024 ** 3).toFixed(0)} GB RAM`;
  say(`Postgres: ${postgres}; ${machine}; ${load()}`);
  const out: Record<string, unknown> = {
    at: new Date().toISOString(),
    postgres,
    machine,
    repeat,
    loadAtStart: loadavg(),
  };
  const runs = (what: string) => values.only === undefined || values.only === what;
  if (runs("create")) {
    const createReset = await benchCreate();
    out.createReset = createReset;
    out.targets = checkTargets(createReset);
    out.cliStartupS = await cliStartupS();
    say(
      `CLI process startup (\`bough --help\`; compiled dist/ when fresh, else tsx), not in the columns above: ${fmtS(out.cliStartupS as number)}`,
    );
  }
  const mergeRuns = Number(values["merge-runs"]) || undefined;
  if (runs("merge")) out.merge = await benchMerge({ runs: mergeRuns });
  if (runs("merge-10k")) out.merge10k = await benchMerge({ scale: 10, runs: mergeRuns ?? 3 });
  if (runs("rest")) out.rest = await benchRest({ seconds: Number(values["rest-seconds"]) || 5 });
  if (runs("storage")) {
    out.storage = await benchStorage();
    say(storageTable(out.storage as Awaited<ReturnType<typeof benchStorage>>));
  }
  if (runs("functions")) {
    const functions = await benchFunctions();
    out.functions = functions;
    say(functionsTable(functions));
  }
  if (runs("realtime")) {
    out.realtime = await benchRealtime();
    say(realtimeTable(out.realtime as Awaited<ReturnType<typeof benchRealtime>>));
  }
  if (runs("pitr")) {
    const pitr = await benchPitr({ walSizesMb: parseSizes(values["wal-sizes"]), log });
    out.pitr = pitr;
    say(pitrTable(pitr));
  }
  if (runs("mask")) {
    const mask = await benchMask({ sizeMb: Number(values["mask-mb"]) || 300 });
    out.mask = mask;
    say(maskTable(mask));
  }
  if (runs("proxy")) {
    out.proxy = await benchProxy();
    say(proxyTable(out.proxy as Awaited<ReturnType<typeof benchProxy>>));
  }
  // Timings on a shared machine mean little without how busy it was.
  say(load());
  out.loadAtEnd = loadavg();
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  say(`results written to ${file}`);
}

await main().catch((err) => {
  // Interrupted: the signal handler is cleaning up and exits when done.
  if (isAborting()) return new Promise(() => {});
  throw err;
});
