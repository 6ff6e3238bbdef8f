import type { Command } from "commander";
import { growStore, removeStore, type StoreReport } from "../../../branches/store.ts";
import { formatBytes } from "../output.ts";
import { confirm, parseSize, type Session, withSession } from "../session.ts";

/** The store line of `bough status` and `bough store grow`. */
export function storeLine(r: StoreReport | null): string {
  if (!r) return "none";
  const used = r.usedBytes === null ? "" : `, ${formatBytes(r.usedBytes)} used`;
  const where = r.mounted ? `mounted on ${r.mountpoint} (${r.loopDevice})` : "NOT mounted";
  return `${r.image}: ${formatBytes(r.sizeBytes)} XFS reflink${used}, ${formatBytes(r.allocatedBytes)} on disk, ${where}`;
}

export function registerStore(program: Command): void {
  const store = program
    .command("store")
    .description(
      "the sparse XFS image (reflink) bough keeps the branches in on filesystems without reflink",
    );

  store
    .command("grow")
    .description("grow the store online (the image file, its loop device, then XFS)")
    .requiredOption("--size <size>", "the new total size, e.g. 128G", parseSize)
    .action(
      withSession(async (s: Session, o: { size: number }) => {
        const r = await growStore(s.ctx, o.size);
        s.out.result(r, () => s.out.line(`store: ${storeLine(r)}`));
      }),
    );

  store
    .command("remove")
    .description("unmount the store and delete its image (the home must have no projects left)")
    .action(
      withSession(async (s: Session) => {
        await confirm(s, `unmount and delete ${s.ctx.paths.storeImage}?`);
        await removeStore(s.ctx);
        s.out.result({ removed: s.ctx.paths.storeImage }, () =>
          s.out.line(`removed ${s.ctx.paths.storeImage}`),
        );
      }),
    );
}
