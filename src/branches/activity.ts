/**
 * What scale to zero counts as use of a branch, in memory of one `bough up`: open proxy
 * connections and platform API requests. A branch is idle for as long as it has had no
 * open connection and no request.
 */
export interface Activity {
  /** A connection opens: the branch is busy until the returned release is called. */
  acquire(branchId: number): () => void;
  /** A request: the idle clock starts again. */
  touch(branchId: number): void;
  /** How long the branch has been idle (0 while a connection is open; first asked: from now). */
  idleForMs(branchId: number, now?: number): number;
  /** An idle stop of the branch is under way until `stop` settles (idle stops call this). */
  stopping(branchId: number, stop: Promise<unknown>): void;
  /** Resolves once no idle stop of the branch is under way (a new connection waits for it). */
  settled(branchId: number): Promise<void>;
}

export function createActivity(): Activity {
  const open = new Map<number, number>();
  const lastSeen = new Map<number, number>();
  const stops = new Map<number, Promise<void>>();
  const touch = (id: number) => lastSeen.set(id, Date.now());
  return {
    acquire(id) {
      open.set(id, (open.get(id) ?? 0) + 1);
      touch(id);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(id) ?? 1) - 1;
        if (left > 0) open.set(id, left);
        else open.delete(id);
        touch(id);
      };
    },
    touch,
    idleForMs(id, now = Date.now()) {
      if (open.has(id)) return 0;
      const seen = lastSeen.get(id);
      if (seen === undefined) {
        lastSeen.set(id, now);
        return 0;
      }
      return now - seen;
    },
    stopping(id, stop) {
      const done = stop.then(
        () => {},
        () => {},
      );
      stops.set(id, done);
      void done.then(() => {
        if (stops.get(id) === done) stops.delete(id);
      });
    },
    async settled(id) {
      await stops.get(id);
    },
  };
}
