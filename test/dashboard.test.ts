import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium, type Page } from "playwright-core";
import { createBranch } from "../src/branches/create.ts";
import { buildApp } from "../src/interfaces/api/app.ts";
import { type TestHome, testHome } from "./helpers/project.ts";
import { query, rows } from "./helpers/sql.ts";

const CHROMIUM = "/usr/bin/chromium";
const PROJECT = "dash";
const KEY = "test-admin-key";
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser test`;

describe("dashboard in a real browser (headless chromium)", { skip }, () => {
  let h: TestHome;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base = "";
  const url = (branch: string) => h.url(PROJECT, branch);
  const treeUrl = () => `${base}/dashboard/p/${PROJECT}`;
  const row = (name: string) => page.locator(`[data-branch-row="${name}"]`);
  const notice = () => page.locator("#notice");

  /** Runs a step; on failure saves a full-page screenshot to a temp dir and says where. */
  const step = (fn: () => Promise<void>) => async (t: TestContext) => {
    try {
      await fn();
    } catch (err) {
      const dir = await mkdtemp(join(tmpdir(), "bough-dashboard-"));
      const file = join(dir, `${t.name.replace(/[^a-z0-9]+/giu, "-").slice(0, 80)}.png`);
      await page?.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.error(`dashboard test failed; screenshot: ${file}`);
      throw err;
    }
  };

  before(async () => {
    h = await testHome();
    const main = await h.project(PROJECT);
    await query(main, "CREATE TABLE items (id int PRIMARY KEY, name text)");
    app = buildApp(h.ctx, {
      dashboard: {
        authorize: async (token) => (token === KEY ? "dashboard-test" : null),
        project: PROJECT,
      },
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    // Merges rehearse on a clone first: slower than Playwright's default on a busy machine.
    page.setDefaultTimeout(90_000);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await h?.dispose();
  });

  test(
    "without an admin key nothing but the login form is served (401)",
    step(async () => {
      const pageRes = await fetch(treeUrl(), { headers: { accept: "text/html" } });
      assert.equal(pageRes.status, 401);
      assert.match(await pageRes.text(), /Admin key/);
      for (const path of [`/dashboard/p/${PROJECT}/tree`, `/dashboard/events?project=${PROJECT}`]) {
        const r = await fetch(`${base}${path}`);
        assert.equal(r.status, 401, path);
        assert.equal(((await r.json()) as { code: string }).code, "UNAUTHORIZED");
      }
      const create = await fetch(`${base}/dashboard/api/p/${PROJECT}/branches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "sneaky" }),
      });
      assert.equal(create.status, 401);
      const forged = await fetch(`${base}/dashboard/p/${PROJECT}/tree`, {
        headers: { cookie: "bough_dashboard=forged" },
      });
      assert.equal(forged.status, 401);
    }),
  );

  test(
    "signs in with the admin key (a wrong key is refused)",
    step(async () => {
      await page.goto(base);
      await page.getByLabel("Admin key").fill("wrong");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText("That admin key was not accepted.").waitFor();
      await page.getByLabel("Admin key").fill(KEY);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: `Branches of ${PROJECT}` }).waitFor();
      await row("main").waitFor();
      assert.match(await page.locator("header").innerText(), /signed in as dashboard-test/);
      const cookies = await page.context().cookies();
      const session = cookies.find((c) => c.name === "bough_dashboard");
      assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
      assert.equal(session?.sameSite, "Strict");
      assert.ok(!session?.value.includes(KEY), "the cookie holds a session id, not the key");
    }),
  );

  test(
    "creates a branch from the page and the tree shows it, and a branch made elsewhere, live",
    step(async () => {
      // Marks this document: a reload would lose it.
      await page.evaluate(() => {
        (window as unknown as { marker: number }).marker = 42;
      });
      await page.locator("body[data-events=open]").waitFor();
      await page.getByRole("button", { name: "New branch" }).click();
      const dialog = page.getByRole("dialog", { name: "Create a branch" });
      await dialog.getByLabel("Name").fill("feature");
      await dialog.getByLabel("Parent").selectOption("main");
      await dialog.getByLabel("Mode").selectOption("full");
      await dialog.getByRole("button", { name: "Create branch" }).click();
      // The stream may show it while it is still being created; it settles as ready.
      await assertText(row("feature"), /ready\s+full\s+running/);
      await assertText(notice(), /created feature from main/);

      // Made by another caller (the CLI, an agent): the event stream tells the page.
      await createBranch(h.ctx, { project: PROJECT, name: "other", switchTo: false });
      await row("other").waitFor();
      assert.equal(await page.evaluate(() => (window as unknown as { marker: number }).marker), 42);
      const api = await row("feature").getByRole("button", { name: "Copy API URL of feature" });
      assert.equal(
        await api.getAttribute("data-copy"),
        `${base}/p/${PROJECT}/b/feature`,
        "the API URL is where this server serves the branch",
      );
    }),
  );

  test(
    "a conflict blocks the merge: shown side by side, merge button disabled, preview downloadable",
    step(async () => {
      await query(url("main"), "ALTER TABLE items ADD COLUMN price integer");
      await query(url("feature"), "ALTER TABLE items ADD COLUMN price text");
      await page.goto(treeUrl());
      await row("feature").getByRole("link", { name: "Review merge" }).click();
      await page.getByRole("heading", { name: "Merge review: feature → main" }).waitFor();
      const conflict = page.locator("article.conflict");
      await assertText(conflict, /both-created column:public\.items\.price/);
      assert.match(
        await conflict.locator("figure", { hasText: "Parent now" }).innerText(),
        /integer/,
      );
      assert.match(await conflict.locator("figure", { hasText: "Branch now" }).innerText(), /text/);
      assert.match(await conflict.locator("figure", { hasText: "T0" }).innerText(), /absent/);
      assert.match(await page.getByRole("alert").first().innerText(), /merge blocked: 1 conflict/);
      assert.equal(
        await page.getByRole("button", { name: "Merge into main" }).isDisabled(),
        true,
        "blocked: the merge button is disabled",
      );
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: "Download preview SQL" }).click(),
      ]);
      const sql = await readFile((await download.path()) as string, "utf8");
      assert.match(sql, /MERGE BLOCKED/);
      assert.match(sql, /column:public\.items\.price/);
    }),
  );

  test(
    "resets the branch from the page: back to T0, nothing left to merge",
    step(async () => {
      await page.goto(treeUrl());
      await row("feature").getByRole("button", { name: "Reset" }).click();
      const dialog = page.getByRole("dialog", { name: "Are you sure?" });
      await assertText(dialog, /Reset branch feature to its T0 state/);
      await dialog.getByRole("button", { name: "Reset feature" }).click();
      await assertText(notice(), /feature reset to T0/);
      const cols = await rows(
        url("feature"),
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY 1",
      );
      assert.deepEqual(
        cols.map((c) => c.column_name),
        ["id", "name"],
      );
      await page.goto(`${treeUrl()}/b/feature/merge`);
      await page.getByText("Nothing to merge").waitFor();
      assert.equal(await page.getByRole("button", { name: "Merge into main" }).isDisabled(), true);
    }),
  );

  test(
    "merges a clean branch from the page; the parent has its changes; values are escaped",
    step(async () => {
      await query(
        url("feature"),
        `CREATE TABLE reviews (id int PRIMARY KEY, body text);
         CREATE TABLE "<b>bold</b>" (id int)`,
      );
      await page.goto(`${treeUrl()}/b/feature/merge`);
      await page.getByText("Ready to merge").waitFor();
      const live = page.locator("#live");
      assert.match(await live.innerText(), /CREATE TABLE "public"\."reviews"/);
      assert.match(await live.innerText(), /<b>bold<\/b>/, "a name is shown as text");
      assert.equal(await live.locator("b").count(), 0, "and never becomes markup");
      const merge = page.getByRole("button", { name: "Merge into main" });
      assert.equal(await merge.isDisabled(), false);
      await merge.click();
      await page
        .getByRole("dialog", { name: "Are you sure?" })
        .getByRole("button", { name: "Merge into main" })
        .click();
      await assertText(notice(), /merged feature into main/);
      const landed = await rows<{ reviews: string | null; bold: string | null }>(
        url("main"),
        `SELECT to_regclass('public.reviews')::text AS reviews, to_regclass('public."<b>bold</b>"')::text AS bold`,
      );
      assert.ok(landed[0]?.reviews, "reviews is on main");
      assert.ok(landed[0]?.bold, "and the oddly named table too");
      await page.goto(treeUrl());
      assert.match(await row("feature").innerText(), /merged/);
    }),
  );

  test(
    "protect disables reset and delete, unprotect asks first; refresh from parent",
    step(async () => {
      await page.goto(treeUrl());
      await row("feature").getByRole("button", { name: "Protect", exact: true }).click();
      await assertText(row("feature"), /protected/);
      assert.equal(await row("feature").getByRole("button", { name: "Reset" }).isDisabled(), true);
      await row("feature").getByRole("button", { name: "Unprotect" }).click();
      const dialog = page.getByRole("dialog", { name: "Are you sure?" });
      await dialog.getByRole("button", { name: "Unprotect feature" }).click();
      await assertText(notice(), /feature is not protected/);
      await query(url("main"), "INSERT INTO items VALUES (7, 'fresh')");
      await row("feature").getByRole("button", { name: "Refresh from parent" }).click();
      await dialog.getByRole("button", { name: "Refresh feature" }).click();
      await assertText(notice(), /feature is a fresh copy of main/);
      assert.deepEqual(await rows(url("feature"), "SELECT id FROM items WHERE id = 7"), [
        { id: 7 },
      ]);
    }),
  );

  test(
    "the branch page lists the outbox read-only, and delete asks first",
    step(async () => {
      await query(
        url("other"),
        "INSERT INTO email.outbox (to_address, template, subject, body) VALUES ('a@example.com', 'signup', 'Welcome <3', 'secret link')",
      );
      await page.goto(treeUrl());
      await row("other").getByRole("link", { name: "other" }).click();
      const outbox = page.getByRole("region", { name: /Email outbox/ });
      await assertText(outbox, /Welcome <3/);
      assert.doesNotMatch(await outbox.innerText(), /secret link/, "bodies stay in the database");
      await assertText(outbox, /not delivered/);
      await page.getByRole("button", { name: "Delete" }).click();
      const dialog = page.getByRole("dialog", { name: "Are you sure?" });
      await dialog.getByRole("button", { name: "Cancel" }).click();
      assert.equal(await dialog.isVisible(), false);
      await page.getByRole("button", { name: "Delete" }).click();
      await dialog.getByRole("button", { name: "Delete other" }).click();
      await page.waitForURL(treeUrl());
      await row("feature").waitFor();
      assert.equal(await row("other").count(), 0);
    }),
  );
});

/** Waits until the locator's text matches (pages update asynchronously). */
async function assertText(
  l: ReturnType<Page["locator"]>,
  re: RegExp,
  timeoutMs = 90_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < until) {
    text = await l.innerText().catch(() => "");
    if (re.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(text, re);
}
