import { branchKeys } from "../../src/branches/keys.ts";
import { type AppOptions, buildApp } from "../../src/interfaces/api/app.ts";
import { type TestHome, testHome } from "./project.ts";
import { supabase } from "./supabase.ts";

type KeyKind = "publishableKey" | "secretKey";

/**
 * One project and the real HTTP server over it, for a whole test file (clusters are
 * expensive): `start()` in before, `stop()` in after; the helpers work once started.
 *
 * @example const s = platformServer("p"); before(() => s.start()); after(() => s.stop());
 */
export function platformServer(project: string, appOptions: AppOptions = {}) {
  let home: TestHome | undefined;
  let base = "";
  let close = async () => {};
  const s = {
    get t(): TestHome {
      if (!home) throw new Error("platformServer: call start() first");
      return home;
    },
    /** Creates the project and listens on a free port; returns main's connection string. */
    async start(): Promise<string> {
      home = await testHome();
      const mainUrl = await home.project(project);
      const app = buildApp(home.ctx, appOptions);
      await app.listen({ port: 0, host: "127.0.0.1" });
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      close = () => app.close();
      return mainUrl;
    },
    async stop(): Promise<void> {
      await close();
      await home?.dispose();
    },
    /** A branch's API base URL (what createClient takes). */
    urlOf: (branch: string) => `${base}/p/${project}/b/${branch}`,
    keysOf: (branch: string) => branchKeys(s.t.ctx, { project, name: branch }),
    /** The real supabase-js client on a branch with one of its keys. */
    client: async (
      branch: string,
      which: KeyKind = "publishableKey",
      o: { realtime?: boolean } = {},
    ) => supabase(s.urlOf(branch), (await s.keysOf(branch))[which], o),
  };
  return s;
}
