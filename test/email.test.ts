import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SMTPServer } from "smtp-server";
import type { OutboxItem } from "../src/platform/email/outbox.ts";
import { bough } from "./helpers/cli.ts";
import { platformServer } from "./helpers/platform-server.ts";
import { query, rows } from "./helpers/sql.ts";

const P = "mail";
const PASSWORD = `smtp-${randomBytes(8).toString("hex")}`;

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

// Enough of quoted-printable for assertions on the body (soft breaks, =XX escapes).
const decodeQp = (s: string) =>
  s
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16)));

describe("email: templates, outbox, delivery only where SMTP was set on the branch", () => {
  const s = platformServer(P);
  const received: Received[] = [];
  let smtp: SMTPServer;
  let smtpPort = 0;
  let output = "";

  const run = async (args: string[], input?: string) => {
    const r = await bough(s.t.home, ["--project", P, ...args], { input });
    output += `${r.stdout}\n${r.stderr}\n`;
    return r;
  };
  const ok = async <T>(args: string[], input?: string): Promise<T> => {
    const r = await run(["--json", "-y", ...args], input);
    assert.equal(r.code, 0, `bough ${args.join(" ")}: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const outbox = (branch: string) => ok<OutboxItem[]>(["email", "outbox", "--branch", branch]);
  // Delivery runs after the response: wait until the branch's outbox has nothing pending.
  const settled = async (branch: string) => {
    for (let i = 0; i < 300; i++) {
      const mail = await outbox(branch);
      if (!mail.some((m) => m.status === "pending" && !m.inherited)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`mail on ${branch} still pending`);
  };
  const autoconfirmOff = (branch: string) =>
    query(
      s.t.url(P, branch),
      "UPDATE auth.config SET value = 'false' WHERE key = 'mailer_autoconfirm'",
    );

  before(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === "mailer" && auth.password === PASSWORD) cb(null, { user: "mailer" });
        else cb(new Error("Invalid username or password"));
      },
      onData(stream, session, cb) {
        let raw = "";
        stream.on("data", (d: Buffer) => {
          raw += d.toString("utf8");
        });
        stream.on("end", () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            user: session.user as string | undefined,
            raw: decodeQp(raw),
          });
          cb();
        });
      },
    });
    await new Promise<void>((done) => smtp.listen(0, "127.0.0.1", () => done()));
    smtpPort = (smtp.server.address() as { port: number }).port;
    await s.start();
    await autoconfirmOff("main");
    await ok(
      [
        "email",
        "smtp",
        "set",
        "--branch",
        "main",
        "--host",
        "127.0.0.1",
        "--port",
        String(smtpPort),
        "--user",
        "mailer",
        "--password-stdin",
        "--sender",
        "app@example.com",
      ],
      `${PASSWORD}\n`,
    );
  });
  after(async () => {
    await s.stop();
    await new Promise<void>((done) => smtp.close(() => done()));
  });

  test("on main a sign-up's confirmation is rendered from the template and delivered", async () => {
    const shown = await ok<{ delivers: boolean; smtp: { host: string; hasPassword: boolean } }>([
      "email",
      "smtp",
      "show",
      "--branch",
      "main",
    ]);
    assert.equal(shown.delivers, true);
    assert.equal(shown.smtp.hasPassword, true);
    const sb = await s.client("main");
    const r = await sb.auth.signUp({ email: "ann@example.com", password: "secret password" });
    assert.equal(r.error, null);
    assert.equal(r.data.session, null, "autoconfirm off: no session before the mail is confirmed");
    await settled("main");
    assert.equal(received.length, 1);
    const m = received[0];
    assert.deepEqual(m.to, ["ann@example.com"]);
    assert.equal(m.from, "app@example.com");
    assert.equal(m.user, "mailer", "authenticated with the stored password");
    assert.match(m.raw, /Subject: Confirm Your Signup/);
    assert.match(m.raw, new RegExp(`/p/${P}/b/main/auth/v1/verify\\?token=`));
    const [row] = await outbox("main");
    assert.equal(row.to, "ann@example.com");
    assert.equal(row.subject, "Confirm Your Signup");
    assert.equal(row.delivered, true);
    assert.match(
      row.text,
      /Confirm your mail: http:\/\/127\.0\.0\.1:\d+\/p\/mail\/b\/main\/auth\/v1\/verify\?token=/,
    );
    assert.match(row.text, /Or enter this code: \d{6}/);
    // The link in the mail confirms the address.
    const link = new URL(/https?:\/\/\S+/.exec(row.text)?.[0] ?? "");
    const v = await sb.auth.verifyOtp({
      token_hash: String(link.searchParams.get("token")),
      type: "signup",
    });
    assert.equal(v.error, null);
    assert.ok(v.data.user?.email_confirmed_at);
  });

  test("a branch keeps mail in its outbox until SMTP is set on the branch itself", async () => {
    await ok(["branch", "create", "b1", "--no-switch"]);
    const inherited = await ok<{ delivers: boolean; reason: string; smtp: { host: string } }>([
      "email",
      "smtp",
      "show",
      "--branch",
      "b1",
    ]);
    assert.equal(inherited.smtp.host, "127.0.0.1", "the settings came with the clone");
    assert.equal(inherited.delivers, false);
    assert.equal(inherited.reason, "not delivered: SMTP not set on this branch");
    // Mail main had queued but not sent when the branch was cloned came with the clone.
    await query(
      s.t.url(P, "b1"),
      `INSERT INTO email.outbox (to_address, template, subject, body, queued_branch)
       SELECT 'carol@example.com', 'confirmation', 'For carol', 'x', queued_branch
         FROM email.outbox WHERE to_address = 'ann@example.com'`,
    );
    const before = received.length;
    const sb = await s.client("b1");
    assert.equal(
      (await sb.auth.signUp({ email: "bob@example.com", password: "secret password" })).error,
      null,
    );
    await settled("b1");
    const held = (await outbox("b1")).find((m) => m.to === "bob@example.com");
    assert.equal(held?.delivered, false);
    assert.equal(held?.status, "held");
    assert.equal(held?.error, "not delivered: SMTP not set on this branch");
    assert.equal(received.length, before, "the SMTP server received nothing from the branch");
    const human = await run(["email", "outbox", "--branch", "b1"]);
    assert.match(human.stdout, /held: not delivered: SMTP not set on this branch/);

    // Set on the branch (no auth): it delivers from now on; what it held stays held.
    await ok([
      "email",
      "smtp",
      "set",
      "--branch",
      "b1",
      "--host",
      "127.0.0.1",
      "--port",
      String(smtpPort),
    ]);
    assert.equal((await sb.auth.resetPasswordForEmail("bob@example.com")).error, null);
    await settled("b1");
    assert.equal(received.length, before + 1);
    assert.match(received[received.length - 1].raw, /Subject: Reset Your Password/);
    assert.equal(received[received.length - 1].user, undefined);
    const mail = await outbox("b1");
    // The parent's mail that came with the clone is never delivered by the branch.
    const carol = mail.find((m) => m.to === "carol@example.com");
    assert.equal(carol?.inherited, true);
    assert.equal(carol?.delivered, false);
    assert.ok(!received.some((m) => m.raw.includes("carol@example.com")));
    assert.deepEqual(
      mail.filter((m) => !m.inherited).map((m) => [m.template, m.status]),
      [
        ["confirmation", "held"],
        ["recovery", "delivered"],
      ],
    );
    // main's settings are main's own.
    const main = await ok<{ delivers: boolean; smtp: { user: string } }>([
      "email",
      "smtp",
      "show",
      "--branch",
      "main",
    ]);
    assert.equal(main.smtp.user, "mailer");
    assert.equal(main.delivers, true);
  });

  test("the outbox over HTTP needs the branch's secret key", async () => {
    const keys = await s.keysOf("b1");
    const url = `${s.urlOf("b1")}/email/v1/outbox`;
    const okRes = await fetch(url, { headers: { apikey: keys.secretKey } });
    assert.equal(okRes.status, 200);
    const list = (await okRes.json()) as OutboxItem[];
    assert.deepEqual(
      list.filter((m) => !m.inherited).map((m) => m.to),
      ["bob@example.com", "bob@example.com"],
    );
    const anon = await fetch(url, { headers: { apikey: keys.publishableKey } });
    assert.equal(anon.status, 401);
    const none = await fetch(url);
    assert.ok([401, 403].includes(none.status));
  });

  test("templates: bad ones refused; one changed on a branch merges into main, main's SMTP kept", async () => {
    await ok(["branch", "create", "b2", "--no-switch"]);
    const file = join(s.t.home, "confirm.html");
    writeFileSync(
      file,
      '<p>Hello {{ .Data.name }} ({{ .Email }})</p><p><a href="{{ .ConfirmationURL }}">Join</a></p>',
    );
    const bad = join(s.t.home, "bad.html");
    writeFileSync(bad, "<p>{{ .Password }}</p>");
    assert.equal(
      (
        await run([
          "email",
          "templates",
          "set",
          "confirmation",
          "--subject",
          "x",
          "--body-file",
          bad,
          "--branch",
          "b2",
        ])
      ).code,
      64,
    );
    assert.equal(
      (
        await run([
          "email",
          "templates",
          "set",
          "welcome",
          "--subject",
          "x",
          "--body-file",
          file,
          "--branch",
          "b2",
        ])
      ).code,
      64,
    );
    await ok([
      "email",
      "templates",
      "set",
      "confirmation",
      "--subject",
      "Welcome {{ .Email }}",
      "--body-file",
      file,
      "--branch",
      "b2",
    ]);
    const onMain = await ok<{ type: string; subject: string }[]>([
      "email",
      "templates",
      "list",
      "--branch",
      "main",
    ]);
    assert.equal(onMain.find((t) => t.type === "confirmation")?.subject, "Confirm Your Signup");
    await ok(["branch", "merge", "b2"]);
    const merged = await ok<{ type: string; subject: string }[]>([
      "email",
      "templates",
      "list",
      "--branch",
      "main",
    ]);
    assert.equal(merged.find((t) => t.type === "confirmation")?.subject, "Welcome {{ .Email }}");
    const main = await ok<{ delivers: boolean; smtp: { user: string; hasPassword: boolean } }>([
      "email",
      "smtp",
      "show",
      "--branch",
      "main",
    ]);
    assert.deepEqual(
      [main.delivers, main.smtp.user, main.smtp.hasPassword],
      [true, "mailer", true],
    );

    // Main delivers with the merged template, values HTML-escaped in the HTML part.
    const sb = await s.client("main");
    const r = await sb.auth.signUp({
      email: "cy@example.com",
      password: "secret password",
      options: { data: { name: "<b>Cy</b>" } },
    });
    assert.equal(r.error, null);
    await settled("main");
    const m = received[received.length - 1];
    assert.deepEqual(m.to, ["cy@example.com"]);
    assert.equal(m.user, "mailer");
    assert.match(m.raw, /Subject: Welcome cy@example.com/);
    const row = (await outbox("main")).find((x) => x.to === "cy@example.com");
    assert.equal(row?.delivered, true);
    assert.match(String(row?.html), /Hello &lt;b&gt;Cy&lt;\/b&gt; \(cy@example.com\)/);
    assert.match(String(row?.text), /Hello <b>Cy<\/b> \(cy@example.com\)/);
  });

  test("the SMTP password appears in no CLI output, outbox or Postgres log", async () => {
    assert.ok(!output.includes(PASSWORD));
    const logs: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (e === "postgres.log") logs.push(readFileSync(p, "utf8"));
      }
    };
    walk(join(s.t.home, "projects"));
    assert.ok(logs.length >= 3);
    for (const log of logs) assert.ok(!log.includes(PASSWORD));
    const stored = await rows<{ p: string }>(
      s.t.url(P, "main"),
      "SELECT password_encrypted AS p FROM email.smtp",
    );
    assert.ok(stored[0].p.startsWith("v1.") && !stored[0].p.includes(PASSWORD));
  });
});
