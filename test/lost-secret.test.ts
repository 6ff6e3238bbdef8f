import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { bough, boughJson, initialisedHome } from "./helpers/cli.ts";

test("a lost password file: commands that need it say how to recover, list and delete still work", async () => {
  const h = await initialisedHome("CREATE TABLE t (id int)");
  try {
    await boughJson(h.home, ["branch", "create", "feature"]);
    await rm(join(h.home, "secrets/projects/default-1/postgres-password"));

    const url = await bough(h.home, ["branch", "url", "main"]);
    assert.notEqual(url.code, 0);
    assert.match(url.stderr, /superuser password of project "default" is missing/);
    assert.match(url.stderr, /restore the secrets directory|delete the project/);

    const projects = await boughJson<{ name: string }[]>(h.home, ["project", "list"]);
    assert.deepEqual(
      projects.map((p) => p.name),
      ["default"],
    );
    await boughJson(h.home, ["branch", "delete", "feature"]);
    await boughJson(h.home, ["project", "delete", "default"]);
    assert.deepEqual(await boughJson(h.home, ["project", "list"]), []);
  } finally {
    await h.remove();
  }
});
