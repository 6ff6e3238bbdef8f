import type { Command } from "commander";
import { storageGc } from "../../../branches/storage-gc.ts";
import { withSession } from "../session.ts";

export function registerStorage(program: Command): void {
  const storage = program
    .command("storage")
    .description("files stored by the branches' storage API");

  storage
    .command("gc")
    .description("remove blobs no branch, no T0 snapshot and no upload in flight references")
    .option("--grace-minutes <n>", "keep blobs written in the last N minutes", "60")
    .action(
      withSession(async (s, o: { graceMinutes: string }) => {
        const minutes = Number(o.graceMinutes);
        const results = await storageGc(s.ctx, {
          graceMs: Number.isFinite(minutes) && minutes >= 0 ? minutes * 60_000 : undefined,
        });
        s.out.result(results, () =>
          s.out.table(
            ["Project", "Blobs", "Referenced", "Removed", "Stale files"],
            results.map((r) => [r.project, r.blobs, r.referenced, r.removed, r.staleFilesRemoved]),
          ),
        );
      }),
    );
}
