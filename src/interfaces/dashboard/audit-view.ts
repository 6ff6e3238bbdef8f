import type { AuditEntry } from "../../control/audit.ts";
import { html, type SafeHtml } from "./html.ts";
import { paths } from "./layout.ts";

/** Lines the page shows: the newest, oldest first (as `bough audit`). */
export const AUDIT_PAGE_LIMIT = 200;

const actorText = (a: AuditEntry["actor"]) =>
  a ? `${a.kind}:${a.name}${a.client ? ` (${a.client})` : ""}` : "-";

/** The audit log as a table (the live region of the audit page). */
export function renderAudit(project: string, rows: AuditEntry[]): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">No actions recorded yet.</p>`;
  return html`<table aria-describedby="audit-about">
<caption class="sr-only">Audit log of ${project}, oldest first</caption>
<thead><tr><th scope="col">At (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Branch</th><th scope="col">Result</th><th scope="col">Duration</th><th scope="col">Arguments</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr data-audit-row="${r.id}">
  <td><time datetime="${r.at}">${r.at.replace("T", " ").slice(0, 19)}</time></td>
  <td>${actorText(r.actor)}</td>
  <td><code>${r.action}</code></td>
  <td>${r.branch ? html`<a href="${paths.branch(project, r.branch)}">${r.branch}</a>` : "-"}</td>
  <td>${r.result === "ok" ? html`<span class="badge state-ready">ok</span>` : html`<span class="badge state-failed">${r.result}</span>`}</td>
  <td>${r.durationMs === null ? "-" : `${r.durationMs} ms`}</td>
  <td>${Object.keys(r.args).length > 0 ? html`<code>${JSON.stringify(r.args)}</code>` : ""}</td>
</tr>`,
  )}</tbody>
</table>`;
}

/** The page body: a branch filter (a GET form, so the URL says what is shown) and the live table. */
export function auditBody(project: string, o: { branch?: string; rows: AuditEntry[] }): SafeHtml {
  const live = `${paths.auditFragment(project)}${o.branch ? `?branch=${encodeURIComponent(o.branch)}` : ""}`;
  return html`<h1>Audit log of ${project}</h1>
<p id="audit-about" class="muted">Every action on the project's branches, from the CLI, the API, MCP and this dashboard: who, what, how it ended. The newest ${AUDIT_PAGE_LIMIT}, oldest first; updates live as branches change.</p>
<form method="get" action="${paths.audit(project)}" class="toolbar" role="search">
  <label for="audit-branch">Branch</label>
  <input id="audit-branch" name="branch" value="${o.branch ?? ""}" autocomplete="off" aria-describedby="audit-branch-help">
  <span id="audit-branch-help" class="help">empty for every branch</span>
  <button type="submit">Filter</button>
</form>
<section id="live" data-live="${live}" aria-label="Audit log">${renderAudit(project, o.rows)}</section>`;
}
