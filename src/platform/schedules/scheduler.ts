import { Cron } from "croner";
import { type FireContext, fireJob } from "./fire.ts";

interface Armed {
  signature: string;
  cron: Cron;
}

/**
 * The croner timers of one branch's active jobs, reloaded from its database every
 * reloadMs (a change made by the CLI, a merge or a reset shows within that). Every fire
 * is checked again in the database (claimRun), so a timer left from a stale reload does
 * nothing. Errors (the branch stopping under it) are reported, never thrown.
 */
export function startBranchScheduler(
  f: FireContext,
  o: { reloadMs: number; onError?: (err: Error) => void },
): { reload(): Promise<void>; stop(): void } {
  const armed = new Map<string, Armed>();
  let stopped = false;
  const report = (err: unknown) => o.onError?.(err as Error);

  const reload = async () => {
    if (stopped) return;
    const rows = await f.withDb(async (c) => {
      const ok = await c.query<{ ok: boolean }>(
        "SELECT to_regclass('schedules.jobs') IS NOT NULL AS ok",
      );
      if (!ok.rows[0].ok) return [];
      const r = await c.query<{ name: string; cron: string; timezone: string }>(
        "SELECT name, cron, timezone FROM schedules.jobs WHERE NOT paused AND armed_branch = $1",
        [f.branchId],
      );
      return r.rows;
    });
    if (stopped) return;
    const wanted = new Map(rows.map((r) => [r.name, `${r.timezone} ${r.cron}`]));
    for (const [name, a] of armed) {
      if (wanted.get(name) !== a.signature) {
        a.cron.stop();
        armed.delete(name);
      }
    }
    for (const r of rows) {
      if (armed.has(r.name)) continue;
      try {
        const cron = new Cron(
          r.cron,
          { timezone: r.timezone, protect: true, unref: true, catch: (e) => report(e) },
          async (self) => {
            // The tick this fire is for (not the moment the timer ran), the same in every runner.
            const tick = self.previousRuns(1, new Date(Date.now() + 1))[0] ?? new Date();
            await fireJob(f, { job: r.name, scheduledFor: tick }).catch(report);
          },
        );
        armed.set(r.name, { signature: `${r.timezone} ${r.cron}`, cron });
      } catch (err) {
        report(err);
      }
    }
  };

  const timer = setInterval(() => void reload().catch(report), o.reloadMs);
  timer.unref();
  void reload().catch(report);
  return {
    reload,
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const a of armed.values()) a.cron.stop();
      armed.clear();
    },
  };
}
