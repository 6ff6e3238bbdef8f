import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { BoughError } from "../core/errors.ts";
import { readSecret, removeSecrets, tightenSecrets, writeSecret } from "./secrets.ts";

const mode = (p: string) => statSync(p).mode & 0o777;

test("secrets are owner-only files, written atomically, removed by group", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "bough-secrets-")), "secrets");
  try {
    assert.equal(readSecret(dir, "projects/app/jwt-secret"), null);
    writeSecret(dir, "projects/app/jwt-secret", "k1");
    writeSecret(dir, "projects/app/jwt-secret", "k2");
    assert.equal(readSecret(dir, "projects/app/jwt-secret"), "k2");
    assert.equal(mode(join(dir, "projects/app/jwt-secret")), 0o600);
    assert.equal(mode(join(dir, "projects/app")), 0o700);
    removeSecrets(dir, "projects/app");
    assert.equal(readSecret(dir, "projects/app/jwt-secret"), null);
    for (const bad of ["../x", "projects/../../etc/passwd", "/abs", "a//b", "A"]) {
      assert.throws(
        () => writeSecret(dir, bad, "v"),
        (e: BoughError) => e.code === "INTERNAL",
        bad,
      );
    }
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
});

test("tightenSecrets closes what an older home or a hand left open", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "bough-secrets-")), "secrets");
  try {
    mkdirSync(join(dir, "projects/p"), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, "projects/p/postgres-password"), "pw", { mode: 0o644 });
    chmodSync(dir, 0o755);
    tightenSecrets(dir);
    assert.deepEqual(
      [
        dir,
        join(dir, "projects"),
        join(dir, "projects/p"),
        join(dir, "projects/p/postgres-password"),
      ].map(mode),
      [0o700, 0o700, 0o700, 0o600],
    );
  } finally {
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
});
