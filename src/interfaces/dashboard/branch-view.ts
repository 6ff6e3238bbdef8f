import type { ServicesOverview, ServiceTable } from "../../branches/services-overview.ts";
import { formatBytes } from "../cli/output.ts";
import { html, type SafeHtml } from "./html.ts";
import { paths } from "./layout.ts";
import {
  branchActions,
  copyField,
  masked,
  modeText,
  runningBadge,
  stateBadge,
  type TreeBranch,
} from "./tree.ts";

const TITLES: Record<string, string> = {
  functions: "Functions",
  schedules: "Schedules",
  outbox: "Email outbox",
};

/** armed_branch as people read it: only the branch whose id it holds acts on the outside world. */
function cell(t: ServiceTable, col: string, v: string | null, branchId: number): SafeHtml {
  if (col === "armed_branch") {
    return v === String(branchId)
      ? html`<span class="badge running">armed on this branch</span>`
      : html`<span class="badge">paused on branch</span>`;
  }
  if (t.service === "outbox" && col === "sent_at" && v === null) {
    return html`<span class="muted">not delivered</span>`;
  }
  return v === null ? html`<span class="muted">null</span>` : html`${v}`;
}

function tableView(t: ServiceTable, branchId: number): SafeHtml {
  const title = TITLES[t.service] ?? t.service;
  return html`<section aria-labelledby="svc-${t.service}">
  <h2 id="svc-${t.service}">${title} <span class="muted">(${t.table}, read-only)</span></h2>
  ${
    t.rows.length === 0
      ? html`<p class="muted">none</p>`
      : html`<table aria-labelledby="svc-${t.service}">
<thead><tr>${t.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>${t.rows.map((r) => html`<tr>${r.map((v, i) => html`<td>${cell(t, t.columns[i] as string, v, branchId)}</td>`)}</tr>`)}</tbody>
</table>${t.truncated ? html`<p class="muted">showing the first ${t.rows.length}</p>` : ""}`
  }
</section>`;
}

/** One branch: its facts, actions, and what its platform services hold. */
export function renderBranch(
  project: string,
  b: TreeBranch,
  children: string[],
  services: ServicesOverview,
): SafeHtml {
  return html`<dl class="facts">
  <dt>Parent</dt><dd>${b.parent ? html`<a href="${paths.branch(project, b.parent)}">${b.parent}</a>` : "none (root)"}</dd>
  <dt>State</dt><dd>${stateBadge(b)}</dd>
  <dt>Mode</dt><dd>${modeText(b)}</dd>
  <dt>Protected</dt><dd>${b.protected ? "yes: reset, restore and delete are refused" : "no"}</dd>
  <dt>Expires</dt><dd>${b.expiresAt ? html`<time datetime="${b.expiresAt}" title="${b.expiresAt}">${b.expiresAt}</time>` : "never"}</dd>
  <dt>Idle timeout</dt><dd>${b.suspendAfter}</dd>
  <dt>Postgres</dt><dd>${runningBadge(b)} on port ${b.port}</dd>
  <dt>Created</dt><dd><time datetime="${b.createdAt}" data-age title="${b.createdAt}">${b.createdAt}</time></dd>
  <dt>T0</dt><dd>${b.forkedAt ? `${b.forkedAt} at LSN ${b.forkLsn}` : "none (root branch)"}</dd>
  <dt>Disk added</dt><dd>${formatBytes(b.diskBytes)}</dd>
  <dt>Children</dt><dd>${children.length > 0 ? children.map((c, i) => html`${i > 0 ? ", " : ""}<a href="${paths.branch(project, c)}">${c}</a>`) : "none"}</dd>
  <dt>API URL</dt><dd>${copyField({ text: b.apiUrl, what: `API URL of ${b.name}` })}</dd>
  <dt>Connection</dt><dd>${copyField({ text: b.connectionString, shown: masked(b.connectionString), what: `connection string of ${b.name}` })}</dd>
</dl>
<div class="toolbar">${branchActions(project, b, { children, leaveTo: paths.project(project) })}</div>
${
  services.running
    ? services.tables.length > 0
      ? services.tables.map((t) => tableView(t, services.branchId))
      : html`<p class="muted">No functions, schedules or outbox on this branch yet.</p>`
    : html`<p class="muted">The branch's Postgres is stopped: its functions, schedules and outbox show once it runs (any request to its API starts it).</p>`
}`;
}
