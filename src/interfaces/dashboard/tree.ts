import type { BranchListItem } from "../../branches/list.ts";
import { formatBytes } from "../cli/output.ts";
import { html, type SafeHtml } from "./html.ts";
import { paths } from "./layout.ts";

/** A branch as a row of the tree, with the URL its API is served at. */
export type TreeBranch = BranchListItem & { apiUrl: string };

// Deeper levels share the last indent: the "child of" text still says where a row belongs.
const MAX_INDENT = 4;

/** Parents before their children, each subtree in creation order. */
function inTreeOrder(branches: TreeBranch[]): { b: TreeBranch; depth: number }[] {
  const names = new Set(branches.map((b) => b.name));
  const out: { b: TreeBranch; depth: number }[] = [];
  const visit = (parent: string | null, depth: number) => {
    for (const b of branches) {
      const isRoot = b.parent === null || !names.has(b.parent);
      if (parent === null ? isRoot : b.parent === parent) {
        out.push({ b, depth });
        visit(b.name, depth + 1);
      }
    }
  };
  visit(null, 0);
  return out;
}

/** The connection string with its password masked, for display; the copy button copies it whole. */
export const masked = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/u, "//$1:•••@");

export function copyField(o: { text: string; shown?: string; what: string }): SafeHtml {
  return html`<span class="copy"><code title="${o.shown ?? o.text}">${o.shown ?? o.text}</code>
<button type="button" class="small" data-copy="${o.text}" data-what="${o.what}" aria-label="Copy ${o.what}">Copy</button></span>`;
}

export function runningBadge(b: { running: boolean; crashed: boolean; idle: boolean }): SafeHtml {
  const label = b.crashed ? "crashed" : b.running ? "running" : b.idle ? "idle" : "stopped";
  const title = b.idle ? "stopped by scale to zero: the next connection starts it" : label;
  return html`<span class="badge ${label}" title="${title}">${label}</span>`;
}

/** The mode, and whether its data was anonymized at creation. */
export const modeText = (b: { mode: string; masked: boolean }): SafeHtml =>
  html`${b.mode}${b.masked ? html` <span class="badge" title="user data and auth users anonymized at creation">masked</span>` : ""}`;

export function stateBadge(b: { state: string; lastError: string | null }): SafeHtml {
  return html`<span class="badge state-${b.state}">${b.state}</span>${
    b.lastError ? html`<div class="error-text small">${b.lastError}</div>` : ""
  }`;
}

/** Protection and expiry, beside the state. */
function lifecycleBadges(b: TreeBranch): SafeHtml {
  return html`${b.protected ? html` <span class="badge">protected</span>` : ""}${
    b.expiresAt
      ? html` <span class="badge">expires <time datetime="${b.expiresAt}" title="${b.expiresAt}">${b.expiresAt}</time></span>`
      : ""
  }`;
}

/** Reset, delete and merge review for a branch that has a parent; main has none of them. */
export function branchActions(
  project: string,
  b: TreeBranch,
  o: { children: string[]; leaveTo?: string },
): SafeHtml {
  const { children } = o;
  if (b.parent === null) {
    return html`<button type="button" class="small" data-action="create" data-parent="${b.name}">New child</button>`;
  }
  const also = children.length > 0 ? ` and its children (${children.join(", ")})` : "";
  // The server refuses these on a protected branch anyway; the buttons say why up front.
  const guarded = b.protected
    ? html` disabled title="${b.name} is protected: unprotect it first"`
    : "";
  return html`<div class="actions">
  <a class="button small" href="${paths.merge(project, b.name)}" id="review-${b.name}">Review merge</a>
  <button type="button" class="small" data-action="create" data-parent="${b.name}">New child</button>
  <button type="button" class="small" id="reset-${b.name}" data-action="reset"${guarded}
    data-url="${paths.action(project, b.name, "reset")}" data-busy="Resetting ${b.name}"
    data-confirm="Reset branch ${b.name} to its T0 state? All its work since ${b.forkedAt ?? "it was created"} is thrown away."
    data-confirm-label="Reset ${b.name}">Reset</button>
  <button type="button" class="small" id="refresh-${b.name}" data-action="reset" data-to-parent="true"${guarded}
    data-url="${paths.action(project, b.name, "reset")}" data-busy="Refreshing ${b.name} from ${b.parent}"
    data-confirm="Make branch ${b.name} a fresh copy of ${b.parent} as it is now? All its work is thrown away (merge what you want to keep first); its name, port and keys stay, and its merge base becomes ${b.parent} now."
    data-confirm-label="Refresh ${b.name}">Refresh from parent</button>
  ${protectButton(project, b)}
  <button type="button" class="small danger" id="delete-${b.name}" data-action="delete"${guarded}
    data-url="${paths.action(project, b.name, "delete")}" data-busy="Deleting ${b.name}"
    ${o.leaveTo ? html`data-after="${o.leaveTo}"` : ""}${children.length > 0 ? html` data-recursive="true"` : ""}
    data-confirm="Delete branch ${b.name}${also}? Its cluster, data and T0 clone are removed; this cannot be undone."
    data-confirm-label="Delete ${b.name}">Delete</button>
</div>`;
}

/** Protect, or unprotect after a confirmation (protection is what keeps agents off a branch). */
function protectButton(project: string, b: TreeBranch): SafeHtml {
  if (!b.protected) {
    return html`<button type="button" class="small" id="protect-${b.name}" data-action="protect"
    data-url="${paths.action(project, b.name, "protect")}" data-busy="Protecting ${b.name}">Protect</button>`;
  }
  return html`<button type="button" class="small" id="unprotect-${b.name}" data-action="unprotect"
    data-url="${paths.action(project, b.name, "unprotect")}" data-busy="Unprotecting ${b.name}"
    data-confirm="Unprotect branch ${b.name}? Reset, restore, delete and agents' writes on it are allowed again."
    data-confirm-label="Unprotect ${b.name}">Unprotect</button>`;
}

/** The branch tree as a table: parent → children, with state, disk, URLs and actions. */
export function renderTree(project: string, branches: TreeBranch[]): SafeHtml {
  const rows = inTreeOrder(branches).map(({ b, depth }) => {
    const children = branches.filter((c) => c.parent === b.name).map((c) => c.name);
    return html`<tr data-branch-row="${b.name}">
  <th scope="row"><span class="d${Math.min(depth, MAX_INDENT)}"><a href="${paths.branch(project, b.name)}">${b.name}</a></span>${
    b.parent ? html`<span class="sr-only">, child of ${b.parent}</span>` : ""
  }</th>
  <td>${stateBadge(b)}${lifecycleBadges(b)}</td>
  <td>${modeText(b)}</td>
  <td>${runningBadge(b)}</td>
  <td><time datetime="${b.createdAt}" data-age title="${b.createdAt}">${b.createdAt}</time></td>
  <td>${formatBytes(b.diskBytes)}</td>
  <td>${copyField({ text: b.apiUrl, what: `API URL of ${b.name}` })}</td>
  <td>${copyField({ text: b.connectionString, shown: masked(b.connectionString), what: `connection string of ${b.name}` })}</td>
  <td>${branchActions(project, b, { children })}</td>
</tr>`;
  });
  return html`<table aria-label="Branches of ${project}">
<thead><tr><th scope="col">Branch</th><th scope="col">State</th><th scope="col">Mode</th><th scope="col">Postgres</th>
<th scope="col">Age</th><th scope="col">Disk added</th><th scope="col">API URL</th><th scope="col">Connection string</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}
