import { type HtmlValue, html, type SafeHtml } from "./html.ts";

/** Where the dashboard's pages live: one function each, so links are never spelt twice. */
export const paths = {
  login: "/dashboard/login",
  logout: "/dashboard/logout",
  project: (p: string) => `/dashboard/p/${encodeURIComponent(p)}`,
  tree: (p: string) => `${paths.project(p)}/tree`,
  audit: (p: string) => `${paths.project(p)}/audit`,
  auditFragment: (p: string) => `${paths.audit(p)}/fragment`,
  branch: (p: string, b: string) => `${paths.project(p)}/b/${encodeURIComponent(b)}`,
  branchFragment: (p: string, b: string) => `${paths.branch(p, b)}/fragment`,
  merge: (p: string, b: string) => `${paths.branch(p, b)}/merge`,
  mergeFragment: (p: string, b: string) => `${paths.merge(p, b)}/fragment`,
  previewSql: (p: string, b: string) => `${paths.merge(p, b)}/preview.sql`,
  action: (
    p: string,
    b: string,
    what: "reset" | "delete" | "merge" | "start" | "protect" | "unprotect",
  ) => `/dashboard/api/p/${encodeURIComponent(p)}/b/${encodeURIComponent(b)}/${what}`,
};

export interface PageOptions {
  title: string;
  /** Signed-in admin key name; null on the login page. */
  actor: string | null;
  projects?: string[];
  project?: string;
  body: HtmlValue;
}

/** The page shell: header with projects and sign-out, a status line, the two dialogs. */
export function page(o: PageOptions): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · bough</title>
<link rel="stylesheet" href="/dashboard/assets/app.css">
<script src="/dashboard/assets/app.js" defer></script>
</head>
<body data-project="${o.project ?? ""}">
<header>
  <a class="brand" href="/">bough</a>
  <nav aria-label="Projects">${(o.projects ?? []).map(
    (p) =>
      html`<a href="${paths.project(p)}"${p === o.project ? html` aria-current="page"` : ""}>${p}</a>`,
  )}</nav>
  ${
    o.project && o.actor !== null
      ? html`<nav aria-label="Project pages"><a href="${paths.project(o.project)}">Branches</a><a href="${paths.audit(o.project)}">Audit log</a></nav>`
      : ""
  }
  ${
    o.actor === null
      ? ""
      : html`<span class="muted">signed in as <strong>${o.actor}</strong></span>
  <form method="post" action="${paths.logout}"><button type="submit">Sign out</button></form>`
  }
</header>
<div id="notice" role="status" aria-live="polite"></div>
<main>${o.body}</main>
${o.actor === null ? "" : dialogs()}
</body>
</html>`;
}

function dialogs(): SafeHtml {
  return html`<dialog id="confirm-dialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
  <form method="dialog">
    <h2 id="confirm-title">Are you sure?</h2>
    <p id="confirm-text"></p>
    <menu>
      <button type="submit" value="cancel">Cancel</button>
      <button type="submit" value="ok" id="confirm-ok" class="danger">Confirm</button>
    </menu>
  </form>
</dialog>
<dialog id="create-dialog" aria-labelledby="create-title">
  <form id="create-form">
    <h2 id="create-title">Create a branch</h2>
    <label for="create-name">Name</label>
    <input id="create-name" name="name" required autocomplete="off" pattern="[a-z][a-z0-9\\-]{0,62}"
      aria-describedby="create-name-help">
    <p id="create-name-help" class="help">1–63 lowercase letters, digits and hyphens, starting with a letter</p>
    <label for="create-parent">Parent</label>
    <select id="create-parent" name="from"></select>
    <label for="create-mode">Mode</label>
    <select id="create-mode" name="mode">
      <option value="full">full: schema and data</option>
      <option value="schema-only">schema-only: schema and platform config, no user rows</option>
    </select>
    <label for="create-expires">Expires in</label>
    <input id="create-expires" name="expiresIn" autocomplete="off" placeholder="e.g. 2h"
      aria-describedby="create-expires-help">
    <p id="create-expires-help" class="help">deleted by itself after this long (30m, 2h, 7d); empty: never</p>
    <label class="check"><input type="checkbox" id="create-mask" name="mask" value="true"
      aria-describedby="create-mask-help"> Anonymize data</label>
    <p id="create-mask-help" class="help">apply the masking rules (<code>bough mask</code>) to the copy before anyone can read it</p>
    <p id="create-error" class="error-text" role="alert"></p>
    <menu>
      <button type="button" data-close>Cancel</button>
      <button type="submit" class="primary">Create branch</button>
    </menu>
  </form>
</dialog>`;
}

/** The login form, alone on its page (with why the last attempt failed). */
export function loginPage(o: { error?: string; projects?: string[] }): SafeHtml {
  return page({
    title: "Sign in",
    actor: null,
    body: html`<section class="login">
  <h1>Sign in to the bough dashboard</h1>
  <form method="post" action="${paths.login}">
    <label for="admin-key">Admin key</label>
    <input id="admin-key" name="key" type="password" required autocomplete="current-password"
      aria-describedby="admin-key-help">
    <p id="admin-key-help" class="help">The key <code>bough init</code> printed, or one from <code>bough admin-key create NAME</code>.</p>
    ${o.error ? html`<p class="error-text" role="alert">${o.error}</p>` : ""}
    <button type="submit" class="primary">Sign in</button>
  </form>
</section>`,
  });
}

/** A page saying what went wrong and what to do. */
export function errorBody(o: { message: string; hint?: string }): SafeHtml {
  return html`<h1>Something went wrong</h1><p class="error-text" role="alert">${o.message}</p>${
    o.hint ? html`<p>${o.hint}</p>` : ""
  }<p><a href="/">Back to the branches</a></p>`;
}
