import type { TablePolicy } from "../merge/catalog/snapshot.ts";
import { listTablePolicies, setTablePolicy } from "../merge/table-policies.ts";
import { audited } from "./audited.ts";
import { withPlatformClient } from "./branch-service.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";

interface On {
  project: string;
  branch: string;
}

function onBranch<T>(ctx: Ctx, o: On, fn: Parameters<typeof withPlatformClient<T>>[3]) {
  return exclusive(ctx, () => {
    const project = requireProject(ctx, o.project);
    return withPlatformClient(ctx, project, requireBranch(ctx, project, o.branch), fn);
  });
}

/** `bough table-policy set`: how a table merges (a row of bough.table_policies, itself merged). */
export const tablePolicySet = audited(
  "table-policy.set",
  (
    ctx: Ctx,
    o: On & { table: string; policy: string; keyColumns?: string[]; exclude?: string[] },
  ): Promise<TablePolicy> =>
    onBranch(ctx, o, (c) =>
      setTablePolicy(c, {
        table: o.table,
        policy: o.policy,
        key: o.keyColumns,
        exclude: o.exclude,
      }),
    ),
);

export function tablePolicyList(ctx: Ctx, o: On): Promise<TablePolicy[]> {
  return onBranch(ctx, o, listTablePolicies);
}
