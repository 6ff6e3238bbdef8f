/**
 * The dashboard's only static files: a stylesheet and a small script (no bundler, no
 * framework). Pages are rendered on the server; the script opens the event stream,
 * refetches the page's live region when told of a change, runs the dialogs and posts
 * the actions.
 */
export const STYLES = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #59636e; --bg: #fff; --panel: #f6f8fa;
  --line: #d1d9e0; --accent: #0b5cad; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9aa5b1; --bg: #0d1117;
  --panel: #161b22; --line: #30363d; --accent: #58a6ff; --ok: #3fb950; --warn: #d29922; --bad: #f85149; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header .brand { font-weight: 700; font-size: 1.1rem; color: var(--fg); text-decoration: none; }
header nav { display: flex; gap: .6rem; flex: 1; }
header form { margin: 0; }
main { padding: 1rem 1.2rem 3rem; max-width: 1500px; }
h1 { font-size: 1.35rem; margin: .3rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1rem; margin: .8rem 0 .4rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button, .button { font: inherit; padding: .3rem .75rem; border-radius: 6px; border: 1px solid var(--line);
  background: var(--panel); color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button:hover:not(:disabled), .button:hover { border-color: var(--accent); }
button:disabled { opacity: .5; cursor: not-allowed; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { color: var(--bad); border-color: var(--bad); }
button.small { padding: .1rem .5rem; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: .3rem 0; }
.copy { display: flex; gap: .4rem; align-items: center; }
.copy code { max-width: 22rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.d1 { padding-left: 1.6rem; } .d2 { padding-left: 3.2rem; } .d3 { padding-left: 4.8rem; } .d4 { padding-left: 6.4rem; }
.d1::before, .d2::before, .d3::before, .d4::before { content: "↳ "; color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid var(--line); white-space: nowrap; }
.state-ready, .running { color: var(--ok); border-color: var(--ok); }
.state-conflicted, .state-failed, .crashed, .hazard { color: var(--bad); border-color: var(--bad); }
.state-creating, .state-merging, .state-resetting, .state-restoring, .state-deleting { color: var(--warn); border-color: var(--warn); }
.idle { color: var(--muted); }
.muted, .help { color: var(--muted); font-size: .9rem; }
.error-text { color: var(--bad); }
.actions { display: flex; gap: .4rem; flex-wrap: wrap; }
.toolbar { display: flex; gap: .6rem; align-items: center; margin: .6rem 0 1rem; flex-wrap: wrap; }
.toolbar label { margin: 0; } .toolbar input { width: 16rem; }
#notice:not(:empty) { margin: .6rem 1.2rem 0; padding: .5rem .8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); }
#notice.error { border-color: var(--bad); color: var(--bad); }
#notice.ok { border-color: var(--ok); }
.banner { padding: .7rem 1rem; border-radius: 6px; border: 1px solid var(--line); margin: .6rem 0; }
.banner.blocked { border-color: var(--bad); color: var(--bad); font-weight: 600; }
.banner.clean { border-color: var(--ok); }
.sides { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .6rem; }
.sides figure { margin: 0; }
.sides figcaption { font-weight: 600; font-size: .85rem; color: var(--muted); }
.conflict, .statement { border: 1px solid var(--line); border-radius: 8px; padding: .4rem .8rem .6rem; margin: .6rem 0; }
.conflict { border-color: var(--bad); }
ul.changes { list-style: none; padding-left: .4rem; margin: .3rem 0; font-family: ui-monospace, monospace; font-size: 13px; }
ul.from { list-style: none; padding-left: 1.4rem; margin: .1rem 0 .3rem; color: var(--muted); font-family: system-ui, sans-serif; }
dialog { border: 1px solid var(--line); border-radius: 10px; padding: 1.2rem 1.4rem; min-width: 24rem; max-width: 40rem; color: var(--fg); background: var(--bg); }
dialog::backdrop { background: rgb(0 0 0 / .4); }
dialog h2 { margin-top: 0; }
dialog menu { display: flex; justify-content: flex-end; gap: .6rem; padding: 0; margin: 1.2rem 0 0; }
label { display: block; font-weight: 600; margin: .7rem 0 .2rem; }
label.check { font-weight: 400; display: flex; gap: .4rem; align-items: center; }
label.check input { width: auto; }
input, select { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; width: 100%; background: var(--bg); color: var(--fg); }
.login { max-width: 26rem; margin: 4rem auto; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

export const SCRIPT = `"use strict";
(() => {
  const $ = (s) => document.querySelector(s);
  const project = document.body.dataset.project;

  function notice(text, kind) {
    const n = $("#notice");
    if (!n) return;
    n.textContent = text;
    n.className = kind || "";
  }

  async function post(url, body) {
    const r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    const data = await r.json().catch(() => ({}));
    if (r.status === 401) location.reload();
    if (!r.ok) {
      const e = new Error(data.message || "request failed (" + r.status + ")");
      e.hint = data.hint;
      throw e;
    }
    return data;
  }

  const describe = (e) => e.message + (e.hint ? " — " + e.hint : "");

  function updateAges() {
    const now = Date.now();
    for (const t of document.querySelectorAll("time[data-age]")) {
      const s = Math.max(0, Math.round((now - Date.parse(t.getAttribute("datetime"))) / 1000));
      t.textContent = s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago"
        : s < 86400 ? Math.round(s / 3600) + " h ago" : Math.round(s / 86400) + " d ago";
    }
  }

  // One refresh at a time; a change told meanwhile refetches once more after it.
  let running = null;
  let again = false;
  function refresh() {
    const live = $("[data-live]");
    if (!live) return Promise.resolve();
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        const r = await fetch(live.dataset.live, { credentials: "same-origin" });
        if (r.status === 401) { location.reload(); return; }
        if (!r.ok) continue;
        const focused = document.activeElement && document.activeElement.id;
        live.innerHTML = await r.text();
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
        updateAges();
      } while (again);
    })().catch(() => {}).finally(() => { running = null; live.dataset.refreshed = String(Date.now()); });
    return running;
  }

  function ask(text, label) {
    const d = $("#confirm-dialog");
    $("#confirm-text").textContent = text;
    $("#confirm-ok").textContent = label || "Confirm";
    d.returnValue = "";
    d.showModal();
    return new Promise((done) => d.addEventListener("close", () => done(d.returnValue === "ok"), { once: true }));
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const t = document.createElement("textarea");
      t.value = text;
      document.body.append(t);
      t.select();
      document.execCommand("copy");
      t.remove();
    }
    notice("Copied " + (button.dataset.what || "to the clipboard"), "ok");
  }

  function openCreate(parent) {
    const d = $("#create-dialog");
    const select = $("#create-parent");
    select.replaceChildren();
    for (const row of document.querySelectorAll("[data-branch-row]")) {
      const o = document.createElement("option");
      o.value = o.textContent = row.dataset.branchRow;
      select.append(o);
    }
    select.value = parent || "main";
    $("#create-error").textContent = "";
    $("#create-form").reset();
    select.value = parent || "main";
    d.showModal();
  }

  document.addEventListener("click", async (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    const copier = target && target.closest("[data-copy]");
    if (copier) { await copy(copier.dataset.copy, copier); return; }
    if (target && target.closest("[data-close]")) { target.closest("dialog").close(); return; }
    const b = target && target.closest("button[data-action]");
    if (!b) return;
    if (b.dataset.action === "create") { openCreate(b.dataset.parent); return; }
    if (b.dataset.confirm && !(await ask(b.dataset.confirm, b.dataset.confirmLabel))) return;
    b.disabled = true;
    notice((b.dataset.busy || "Working") + "…", "busy");
    try {
      const body = {};
      if (b.dataset.plan) body.plan = b.dataset.plan;
      if (b.dataset.recursive) body.recursive = true;
      if (b.dataset.toParent) body.toParent = true;
      const r = await post(b.dataset.url, body);
      notice(r.message, "ok");
      if (b.dataset.after) location.assign(b.dataset.after);
      else await refresh();
    } catch (e) {
      notice(describe(e), "error");
      b.disabled = false;
    }
  });

  const form = $("#create-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      const submit = form.querySelector("[type=submit]");
      submit.disabled = true;
      try {
        const r = await post("/dashboard/api/p/" + encodeURIComponent(project) + "/branches", data);
        $("#create-dialog").close();
        notice(r.message, "ok");
        await refresh();
      } catch (e) {
        $("#create-error").textContent = describe(e);
      } finally {
        submit.disabled = false;
      }
    });
  }

  if (project && $("[data-live]")) {
    const events = new EventSource("/dashboard/events?project=" + encodeURIComponent(project));
    events.addEventListener("open", () => { document.body.dataset.events = "open"; });
    events.addEventListener("change", () => refresh());
    events.addEventListener("error", () => { document.body.dataset.events = "reconnecting"; });
  }
  updateAges();
  setInterval(updateAges, 30000);
})();
`;
