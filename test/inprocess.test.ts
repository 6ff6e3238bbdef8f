import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createBranch } from "../src/branches/create.ts";
import { listBranchInfos } from "../src/branches/list.ts";
import type { BoughError } from "../src/core/errors.ts";
import { type TestHome, testHome } from "./helpers/project.ts";

let t: TestHome;
before(async () => {
  t = await testHome();
  await t.project("p");
});
after(() => t.dispose());

test("concurrent operations in one process are serialised: the same name is created once", async () => {
  const attempts = await Promise.allSettled([
    createBranch(t.ctx, { project: "p", name: "twin", switchTo: false }),
    createBranch(t.ctx, { project: "p", name: "twin", switchTo: false }),
    listBranchInfos(t.ctx, { project: "p" }),
  ]);
  assert.equal(attempts[0].status, "fulfilled");
  assert.equal(attempts[1].status, "rejected");
  assert.equal(((attempts[1] as PromiseRejectedResult).reason as BoughError).code, "BRANCH_EXISTS");
  const list = await listBranchInfos(t.ctx, { project: "p" });
  assert.deepEqual(
    list.map((b) => [b.name, b.state]),
    [
      ["main", "ready"],
      ["twin", "ready"],
    ],
  );
});
