import { existsSync, linkSync, readdirSync, statSync } from "node:fs";
import { rm, statfs } from "node:fs/promises";
import { detectCloneDriver, fsName } from "../clusters/clone-driver.ts";
import {
  findProgram,
  growXfsImage,
  makeXfsImage,
  mountAt,
  mountXfsImage,
  unmountXfsImage,
} from "../clusters/xfs-image.ts";
import { listProjects } from "../control/projects.ts";
import { getSetting, setSetting } from "../control/settings.ts";
import type { Db } from "../control/store.ts";
import { BoughError } from "../core/errors.ts";
import type { Paths } from "../core/paths.ts";
import type { Ctx } from "./context.ts";

/**
 * The store: on a filesystem without reflink (ext4), bough as root keeps the projects
 * directory in a sparse XFS image with reflink=1 in the home (`store.xfs`), loop-mounted on
 * `projects/`, so every branch is an O(1) FICLONE clone instead of a full copy. Created by
 * `bough init`/`bough up` on an empty home; mounted again by any command that finds it
 * unmounted (after a reboot) before anything touches a branch.
 */

/** What a command asks of the store when it opens a home. */
export type StoreMode =
  /** Mount the image if there is one (every command). */
  | "mount"
  /** Also create it when the home is empty and has no reflink (init, up). */
  | "create"
  /** Never create it on this home: recorded in settings (`init --no-store`). */
  | "off";

export interface StoreReport {
  image: string;
  mountpoint: string;
  mounted: boolean;
  loopDevice: string | null;
  /** Size of the image (sparse: its apparent size, the filesystem's capacity). */
  sizeBytes: number;
  /** What the image takes on the disk below. */
  allocatedBytes: number;
  /** Used inside the filesystem (null when not mounted). */
  usedBytes: number | null;
}

const OFF_SETTING = "store";
const GB = 1024 ** 3;
const DEFAULT_CAP = 64 * GB;
// mkfs.xfs refuses filesystems under 300 MB.
const MIN_BYTES = 512 * 1024 ** 2;

const isRoot = () => process.getuid?.() === 0;

/** The image mounted on the projects directory, or null when something else (or nothing) is. */
function ownMount(paths: Paths) {
  const m = mountAt(paths.projectsDir);
  return m && m.backingFile === paths.storeImage ? m : null;
}

/**
 * Mounts the store when its image is there but not mounted, and creates it when asked
 * and it is worth it. Returns the one line to print when branches stay full copies and
 * the command is one that may create the store (null otherwise).
 */
export async function prepareStore(o: {
  paths: Paths;
  db: Db;
  mode: StoreMode;
  sizeBytes?: number;
}): Promise<string | null> {
  const { paths } = o;
  if (existsSync(paths.storeImage)) {
    await mountStore(paths);
    return null;
  }
  if (o.mode === "off") setSetting(o.db, OFF_SETTING, "off");
  if (o.mode === "mount") return null;
  const driver = await detectCloneDriver(paths.projectsDir);
  if (driver.name === "reflink") return null;
  const fs = await fsName(paths.projectsDir);
  const copies = `branches are full copies on this filesystem (${fs})`;
  const elsewhere = "or put the home on XFS/btrfs";
  const off =
    getSetting(o.db, OFF_SETTING) === "off"
      ? "--no-store"
      : process.env.BOUGH_STORE === "off"
        ? "BOUGH_STORE=off"
        : null;
  if (off) {
    return `${copies}: the store is off (${off}); a new home without it gets instant copy-on-write branches as root, ${elsewhere}`;
  }
  if (fs === "zfs") {
    return `${copies}: bough has no ZFS clone driver yet; enable block cloning (OpenZFS 2.2+, zfs_bclone_enabled=1) for FICLONE, ${elsewhere}`;
  }
  if (!isRoot() || !findProgram("mkfs.xfs")) {
    return `${copies}: run bough as root with xfsprogs installed for instant copy-on-write branches, ${elsewhere}`;
  }
  if (readdirSync(paths.projectsDir).length > 0) {
    return `${copies}: this home already has projects outside a store; a new home as root gets instant copy-on-write branches, ${elsewhere}`;
  }
  const size = o.sizeBytes ?? (await defaultSize(paths.home));
  if (size < MIN_BYTES) {
    return `${copies}: too little free disk for a store image (--store-size at least 512M); free some space for instant copy-on-write branches, ${elsewhere}`;
  }
  try {
    await createStore(paths, size);
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split("\n").slice(-1)[0];
    return `${copies}: could not create and loop-mount an XFS store here (${why}); ${elsewhere} for instant copy-on-write branches`;
  }
  return null;
}

/** Half the free space of the disk under the home, at most 64 GB (the image is sparse). */
async function defaultSize(home: string): Promise<number> {
  const s = await statfs(home);
  const half = Math.floor((s.bavail * s.bsize) / 2);
  return Math.min(DEFAULT_CAP, half - (half % (1024 * 1024)));
}

/**
 * mkfs into a temp name, then link it into place: of two commands creating at once one
 * wins and the other mounts the winner's image.
 */
async function createStore(paths: Paths, bytes: number): Promise<void> {
  const tmp = `${paths.storeImage}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  await makeXfsImage(tmp, bytes);
  try {
    linkSync(tmp, paths.storeImage);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  try {
    await mountStore(paths);
  } catch (err) {
    // Nothing is in it yet: an image that cannot be mounted here is no use.
    if (!ownMount(paths)) await rm(paths.storeImage, { force: true });
    throw err;
  }
}

async function mountStore(paths: Paths): Promise<void> {
  if (ownMount(paths)) return;
  const hint =
    "the branches live in that image: run bough as root, check loop devices (`losetup -a`, `modprobe loop`) and retry";
  if (mountAt(paths.projectsDir)) {
    throw new BoughError(
      "ENVIRONMENT",
      `something other than the store ${paths.storeImage} is mounted on ${paths.projectsDir}`,
      `unmount it (umount ${paths.projectsDir}) and retry`,
    );
  }
  if (!isRoot()) {
    throw new BoughError(
      "ENVIRONMENT",
      `the store ${paths.storeImage} is not mounted on ${paths.projectsDir}`,
      hint,
    );
  }
  try {
    await mountXfsImage(paths.storeImage, paths.projectsDir);
  } catch (err) {
    // Two commands mounting at once: XFS refuses the second (same UUID), the first won.
    if (ownMount(paths)) return;
    const e = err as BoughError;
    throw new BoughError("ENVIRONMENT", e.message, hint, e.details);
  }
}

/** The store of a home, for `bough status`; null when it has none. */
export async function storeReport(paths: Paths): Promise<StoreReport | null> {
  if (!existsSync(paths.storeImage)) return null;
  const st = statSync(paths.storeImage);
  const m = ownMount(paths);
  const fs = m ? await statfs(paths.projectsDir) : null;
  return {
    image: paths.storeImage,
    mountpoint: paths.projectsDir,
    mounted: m !== null,
    loopDevice: m?.source ?? null,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    usedBytes: fs ? (fs.blocks - fs.bfree) * fs.bsize : null,
  };
}

function requireStore(ctx: Ctx): void {
  if (!existsSync(ctx.paths.storeImage)) {
    throw new BoughError(
      "INVALID_INPUT",
      `${ctx.paths.home} has no store`,
      "a store is created by `bough init` as root on a filesystem without reflink",
    );
  }
  if (!isRoot()) {
    throw new BoughError("ENVIRONMENT", "changing the store needs root", "run it as root");
  }
}

/** Grows the store to `bytes` online: the sparse file, the loop device, then XFS. */
export async function growStore(ctx: Ctx, bytes: number): Promise<StoreReport> {
  requireStore(ctx);
  const size = statSync(ctx.paths.storeImage).size;
  if (bytes <= size) {
    throw new BoughError(
      "INVALID_INPUT",
      `the store is ${size} bytes already; --size must be larger`,
      "pass the new total size, e.g. --size 128G",
    );
  }
  await growXfsImage(ctx.paths.storeImage, ctx.paths.projectsDir, bytes);
  return (await storeReport(ctx.paths)) as StoreReport;
}

/**
 * Unmounts the store (the loop device goes with it) and deletes its image. Only once the
 * home has no projects: their branches live in it.
 */
export async function removeStore(ctx: Ctx): Promise<void> {
  requireStore(ctx);
  const projects = listProjects(ctx);
  if (projects.length > 0) {
    throw new BoughError(
      "INVALID_INPUT",
      `the store holds the branches of ${projects.length} project(s)`,
      `delete them first (\`bough project delete ${projects[0].name}\`)`,
    );
  }
  if (ownMount(ctx.paths)) await unmountXfsImage(ctx.paths.projectsDir);
  await rm(ctx.paths.storeImage, { force: true });
}
