import type { Ctx } from "../../branches/context.ts";
import { branchesSignature } from "../../branches/watch.ts";

type Listener = () => void;

/**
 * Tells pages when a project's branches change, whoever changed them (this server, the
 * CLI, another process): one timer per watched project compares branchesSignature every
 * intervalMs, and only while some page listens.
 */
export function branchWatcher(ctx: Ctx, o: { intervalMs?: number } = {}) {
  const watched = new Map<
    string,
    { listeners: Set<Listener>; last: string; timer: NodeJS.Timeout }
  >();
  const signatureOf = (project: string) => {
    try {
      return branchesSignature(ctx, { project });
    } catch {
      // The store is busy or closing: no news this round.
      return null;
    }
  };
  return {
    /** Calls fn after each change of the project's branches; returns the unsubscribe. */
    subscribe(project: string, fn: Listener): () => void {
      let w = watched.get(project);
      if (!w) {
        const entry = {
          listeners: new Set<Listener>(),
          last: signatureOf(project) ?? "",
          timer: setInterval(() => {
            const now = signatureOf(project);
            if (now === null || now === entry.last) return;
            entry.last = now;
            for (const l of entry.listeners) l();
          }, o.intervalMs ?? 1000),
        };
        entry.timer.unref();
        w = entry;
        watched.set(project, w);
      }
      const entry = w;
      entry.listeners.add(fn);
      return () => {
        entry.listeners.delete(fn);
        if (entry.listeners.size === 0) {
          clearInterval(entry.timer);
          watched.delete(project);
        }
      };
    },
    close(): void {
      for (const w of watched.values()) clearInterval(w.timer);
      watched.clear();
    },
  };
}

export type BranchWatcher = ReturnType<typeof branchWatcher>;
