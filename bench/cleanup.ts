/**
 * Cleanup that also runs on Ctrl-C / SIGTERM: the bench starts postmasters (daemonized by
 * pg_ctl, so they outlive us) and mounts a loop image, and neither may be left behind.
 * `finally` blocks cover errors; a signal kills node before any finally runs, so each
 * resource also registers an undo here, run newest first when a signal arrives.
 */
type Undo = () => Promise<void>;

const undos: { what: string; undo: Undo }[] = [];
let aborting = false;

/** Registers an undo; returns the function that unregisters it (call it once done normally). */
export function onAbort(what: string, undo: Undo): () => void {
  const entry = { what, undo };
  undos.push(entry);
  return () => {
    const i = undos.indexOf(entry);
    if (i >= 0) undos.splice(i, 1);
  };
}

/**
 * Registers undo for a signal and returns the way to run it normally (in a finally):
 * both paths share one run, so a signal during the normal cleanup waits for it instead
 * of unmounting or deleting twice.
 */
export function registerCleanup(what: string, undo: Undo): Undo {
  let running: Promise<void> | null = null;
  const once = () => {
    running ??= undo();
    return running;
  };
  const forget = onAbort(what, once);
  return async () => {
    try {
      await once();
    } finally {
      forget();
    }
  };
}

/** True once a signal arrived: long loops stop starting new work. */
export const isAborting = () => aborting;

async function abort(signal: NodeJS.Signals | "beforeExit"): Promise<void> {
  if (aborting) return; // a second Ctrl-C while cleaning up waits for the first
  aborting = true;
  process.stderr.write(`\n${signal}: stopping clusters and unmounting before exit…\n`);
  for (const { what, undo } of [...undos].reverse()) {
    try {
      await undo();
    } catch (err) {
      process.stderr.write(`cleanup of ${what} failed: ${(err as Error).message}\n`);
    }
  }
  process.exit(signal === "SIGINT" ? 130 : signal === "beforeExit" ? 1 : 143);
}

export function installSignalHandlers(): void {
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, () => void abort(s));
  // Node exits when nothing is left to wait for, even with a promise pending forever (a
  // bug): undos still registered then mean resources still held, so release them.
  process.on("beforeExit", () => {
    if (undos.length > 0) void abort("beforeExit");
  });
}
