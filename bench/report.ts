import Table from "cli-table3";
import type { SizeResult } from "./create-reset.ts";

export const fmtS = (s: number | null) =>
  s === null ? "n/a" : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
export const fmtMb = (b: number | null) =>
  b === null
    ? "unknown"
    : b >= 1024 ** 3
      ? `${(b / 1024 ** 3).toFixed(2)} GB`
      : `${(b / 1024 ** 2).toFixed(1)} MB`;
const ratio = (a: number | null, b: number) =>
  a === null ? "n/a" : `${(a / b).toFixed(a / b < 10 ? 1 : 0)}×`;

export function createTable(results: SizeResult[]): string {
  const table = new Table({
    head: [
      "FS (driver)",
      "DB size",
      "bough create",
      "+ first query",
      "= total",
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
      fmtS(r.boughFirstQueryS),
      fmtS(r.boughCreatePlusQueryS),
      fmtS(r.boughResetS),
      fmtMb(r.branchDiskBytes),
      fmtS(r.dumpRestoreS),
      fmtS(r.templateCopyS),
      ratio(r.dumpRestoreS, r.boughCreatePlusQueryS),
      ratio(r.templateCopyS, r.boughCreatePlusQueryS),
    ]);
  }
  return [
    table.toString(),
    "bough columns are medians of the runs per size; branch disk = the largest over the runs",
    "vs dump / vs template: how many times longer the alternative takes than bough create + first query",
  ].join("\n");
}

export interface TargetCheck {
  target: string;
  met: boolean | null;
  measured: string;
}

/** The targets, judged on the reflink rows (the copy driver is O(size) by design). */
export function checkTargets(results: SizeResult[]): TargetCheck[] {
  const cow = results
    .filter((r) => r.cloneDriver === "reflink")
    .sort((a, b) => a.actualBytes - b.actualBytes);
  if (cow.length === 0) {
    return [
      { target: "reflink targets", met: null, measured: "no reflink filesystem was measured" },
    ];
  }
  const totals = cow.map((r) => r.boughCreatePlusQueryS);
  const worst = Math.max(...totals);
  const small = cow[0];
  const large = cow[cow.length - 1];
  const growth = large.boughCreatePlusQueryS - small.boughCreatePlusQueryS;
  const speedup =
    large.dumpRestoreS === null ? null : large.dumpRestoreS / large.boughCreatePlusQueryS;
  const disks = cow.map((r) => r.branchDiskBytes);
  const worstDisk = disks.includes(null) ? null : Math.max(...(disks as number[]));
  return [
    {
      target: "create + first query < 0.5 s at every size",
      met: worst < 0.5,
      measured: cow
        .map((r) => `${fmtMb(r.actualBytes)}: ${fmtS(r.boughCreatePlusQueryS)}`)
        .join(", "),
    },
    {
      // "Flat": the largest size takes at most 100 ms or 25% more than the smallest.
      target: "no growth with size (largest ≤ smallest + max(100 ms, 25%))",
      met: growth <= Math.max(0.1, 0.25 * small.boughCreatePlusQueryS),
      measured: `${fmtMb(small.actualBytes)} → ${fmtMb(large.actualBytes)}: ${growth >= 0 ? "+" : ""}${(growth * 1000).toFixed(0)} ms`,
    },
    {
      target: `≥ 100× faster than pg_dump | pg_restore at the largest size (${fmtMb(large.actualBytes)})`,
      met: speedup === null ? null : speedup >= 100,
      measured: speedup === null ? "dump/restore not measured" : `${speedup.toFixed(0)}×`,
    },
    {
      target: "a fresh branch adds < 50 MB on disk",
      met: worstDisk === null ? null : worstDisk < 50 * 1024 ** 2,
      measured: cow.map((r) => `${fmtMb(r.actualBytes)}: ${fmtMb(r.branchDiskBytes)}`).join(", "),
    },
  ];
}

export function targetsTable(checks: TargetCheck[]): string {
  const table = new Table({ head: ["target", "met", "measured"], style: { head: [], border: [] } });
  for (const c of checks)
    table.push([c.target, c.met === null ? "?" : c.met ? "yes" : "NO", c.measured]);
  return table.toString();
}
