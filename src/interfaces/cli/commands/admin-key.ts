import type { Command } from "commander";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "../../../control/admin-keys.ts";
import { confirm, withSession } from "../session.ts";

export function registerAdminKey(program: Command): void {
  const adminKey = program
    .command("admin-key")
    .description("named keys of the management API (one per agent or CI job)");

  adminKey
    .command("create <name>")
    .description("create an admin key; it is shown once, only its hash is kept")
    .action(
      withSession(async (s, name: string) => {
        const k = createAdminKey(s.ctx.db, name);
        s.out.result(k, () => {
          s.out.line(`admin key "${k.name}" (shown once, keep it): ${k.key}`);
          s.out.line("use it as `Authorization: Bearer <key>` on the management API (/v1)");
        });
      }),
    );

  adminKey
    .command("list")
    .description("admin keys: names, created, last used (never the keys)")
    .action(
      withSession(async (s) => {
        const keys = listAdminKeys(s.ctx.db);
        s.out.result(keys, () =>
          s.out.table(
            ["Name", "Created", "Last used"],
            keys.map((k) => [k.name, k.createdAt, k.lastUsedAt ?? "never"]),
          ),
        );
      }),
    );

  adminKey
    .command("revoke <name>")
    .description("revoke an admin key: it stops working at once")
    .action(
      withSession(async (s, name: string) => {
        await confirm(s, `revoke admin key "${name}"?`);
        revokeAdminKey(s.ctx.db, name);
        s.out.result({ revoked: name }, () => s.out.line(`revoked admin key ${name}`));
      }),
    );
}
