import { createHash } from "node:crypto";
import type { MergeReport } from "../../branches/merge.ts";
import { assertNever, type Change, type Conflict } from "../../merge/diff/changes.ts";
import type { Hazard, Layer, Statement } from "../../merge/plan/index.ts";
import {
  describeChange,
  describeObject,
  describePolicy,
  describeRow,
} from "../../merge/render/index.ts";
import { type DdlRef, statementLine } from "../../platform/ddl-log/links.ts";
import { html, type SafeHtml } from "./html.ts";
import { paths } from "./layout.ts";

/** What the reviewer saw: the merge button sends it back, and a merge whose plan differs is refused. */
export const planKeyOf = (preview: string) => createHash("sha256").update(preview).digest("hex");

const HAZARDS: Record<Hazard, string> = {
  "access-exclusive-lock": "blocks every read and write of the table while it runs",
  "blocks-writes": "blocks writes to the table while it runs (reads go on)",
  "rewrites-table": "rewrites every row: time and disk proportional to the table",
  "deletes-data": "drops stored data",
  "may-fail-on-existing-rows": "checks existing rows and fails if one does not fit",
  "drops-dependents": "drops dependents first and recreates them after",
  "overwrites-data": "replaces the parent's value of a config row",
  "populates-materialized-view": "runs the view's query to fill it",
  "reaches-outside-the-database":
    "runs a program, touches server files, loads untrusted code or dials out, as superuser",
};

const LAYERS: { layer: Layer; title: string; about: string }[] = [
  {
    layer: "migration",
    title: "Migrations",
    about: "recorded migrations of the branch the parent lacks, replayed first, verbatim",
  },
  { layer: "ddl", title: "Schema", about: "the branch's schema changes, in dependency order" },
  {
    layer: "data",
    title: "Platform config and data",
    about:
      "config rows upserted by key (secret columns are never read or shown) and merge policies",
  },
];

const isSchema = (c: Change) => c.type === "create" || c.type === "drop" || c.type === "alter";

function statementView(s: Statement): SafeHtml {
  return html`<article class="statement">
  <p><code>${s.objectId}</code> <span class="muted">(${s.changeKind})</span> ${s.hazards.map(
    (h) => html`<span class="badge hazard" title="${HAZARDS[h]}">${h}</span> `,
  )}</p>
  ${s.hazards.length > 0 ? html`<ul class="muted">${s.hazards.map((h) => html`<li>${h}: ${HAZARDS[h]}</li>`)}</ul>` : ""}
  <pre>${s.sql}</pre>
  ${s.notes.length > 0 ? html`<ul>${s.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}
</article>`;
}

function sides(base: string, parent: string, branch: string): SafeHtml {
  return html`<div class="sides">
  <figure><figcaption>T0 (when the branch was made)</figcaption><pre>${base}</pre></figure>
  <figure><figcaption>Parent now</figcaption><pre>${parent}</pre></figure>
  <figure><figcaption>Branch now</figcaption><pre>${branch}</pre></figure>
</div>`;
}

function conflictView(c: Conflict, n: number): SafeHtml {
  let body: SafeHtml;
  switch (c.type) {
    case "both-modified":
    case "both-created":
    case "modify-drop":
      body = sides(describeObject(c.base), describeObject(c.parent), describeObject(c.branch));
      break;
    case "dependency":
      body = html`<p>The ${c.reader}'s ${c.readerChange.type} of <code>${c.readerChange.id}</code> needs <code>${c.dependsOn}</code>, which the other side changed:</p>
${sides(describeObject(c.base), describeObject(c.parent), describeObject(c.branch))}`;
      break;
    case "row-conflict":
      body = html`<p>Table <code>${c.table}</code>, key <code>${c.key}</code></p>${sides(
        describeRow(c.base),
        describeRow(c.parent),
        describeRow(c.branch),
      )}`;
      break;
    case "policy-conflict":
      body = html`<p>Merge policy of <code>${c.table}</code></p>${sides(
        describePolicy(c.base),
        describePolicy(c.parent),
        describePolicy(c.branch),
      )}`;
      break;
    default:
      return assertNever(c);
  }
  return html`<article class="conflict" aria-labelledby="conflict-${n}">
  <h3 id="conflict-${n}">Conflict ${n}: ${c.type} <code>${c.id}</code></h3>
  ${body}
  <p><strong>What to do:</strong> ${c.hint}</p>
</article>`;
}

/** "from: ALTER TABLE … at 12:03 by alice", one line per recorded statement behind a change. */
const fromLines = (refs: readonly DdlRef[] | undefined) =>
  refs && refs.length > 0
    ? html`<ul class="from" aria-label="statements that made this change">${refs.map(
        (d) =>
          html`<li>from: <code>${statementLine(d.statement)}</code> at <time datetime="${d.at}" title="${d.at}">${d.at.slice(11, 16)}</time> by ${d.actor}${d.applicationName ? ` (${d.applicationName})` : ""}</li>`,
      )}</ul>`
    : "";

const changeList = (changes: Change[], history: MergeReport["changeHistory"] = {}) =>
  changes.length === 0
    ? html`<p class="muted">none</p>`
    : html`<ul class="changes">${changes.map((c) => html`<li>${describeChange(c)}${fromLines(history[c.id])}</li>`)}</ul>`;

function layerSection(r: MergeReport, l: (typeof LAYERS)[number]): SafeHtml {
  const statements = r.statements.filter((s) => s.layer === l.layer);
  const changes =
    l.layer === "ddl"
      ? r.changes.filter(isSchema)
      : l.layer === "data"
        ? r.changes.filter((c) => !isSchema(c))
        : [];
  const parentSide =
    l.layer === "ddl"
      ? r.parentChanges.filter(isSchema)
      : l.layer === "data"
        ? r.parentChanges.filter((c) => !isSchema(c))
        : [];
  return html`<section aria-labelledby="layer-${l.layer}">
  <h2 id="layer-${l.layer}">${l.title} (${statements.length} statement${statements.length === 1 ? "" : "s"})</h2>
  <p class="muted">${l.about}</p>
  ${l.layer === "migration" && r.migrations.length > 0 ? html`<ul class="changes">${r.migrations.map((m) => html`<li>+ ${m}</li>`)}</ul>` : ""}
  ${
    l.layer === "migration"
      ? ""
      : html`<h3>Changed on the branch</h3>${changeList(changes, r.changeHistory)}
  <h3>Changed on the parent since T0 (kept as it is)</h3>${changeList(parentSide)}`
  }
  ${statements.length > 0 ? html`<h3>Statements</h3>${statements.map(statementView)}` : ""}
</section>`;
}

/** The merge review of one branch: status, merge button, conflicts, then each layer. */
export function renderMergeReview(project: string, r: MergeReport): SafeHtml {
  const nothing = r.changes.length === 0 && r.migrations.length === 0;
  const status = r.blocked
    ? html`<p class="banner blocked" role="alert">${r.blockedReason}. The merge stays disabled until the branch is changed (resolved or reset); the parent is untouched.</p>`
    : nothing
      ? html`<p class="banner clean">Nothing to merge: the branch has no changes its parent lacks.</p>`
      : html`<p class="banner clean">Ready to merge: ${r.statements.length} statement(s), rehearsed on a copy-on-write clone of ${r.parent}, then applied in one transaction.</p>`;
  const disabled = r.blocked || nothing;
  return html`${status}
<div class="toolbar">
  <button type="button" class="primary" id="merge-button" data-action="merge" ${disabled ? html`disabled aria-disabled="true"` : ""}
    data-url="${paths.action(project, r.branch, "merge")}" data-plan="${planKeyOf(r.preview)}" data-busy="Merging ${r.branch} into ${r.parent}"
    data-confirm="Merge ${r.branch} into ${r.parent}? The ${r.statements.length} statement(s) shown here run on ${r.parent} in one transaction."
    data-confirm-label="Merge into ${r.parent}">Merge into ${r.parent}</button>
  <a class="button" href="${paths.previewSql(project, r.branch)}" download="${r.branch}-merge.sql">Download preview SQL</a>
  ${r.fingerprintSkipped ? html`<span class="muted">catalog check skipped: ${r.fingerprintSkipped}</span>` : ""}
</div>
${
  r.conflicts.length > 0
    ? html`<section aria-labelledby="conflicts"><h2 id="conflicts">Conflicts (${r.conflicts.length})</h2>${r.conflicts.map((c, i) => conflictView(c, i + 1))}</section>`
    : ""
}
${
  r.unmergeable.length > 0
    ? html`<section aria-labelledby="unmergeable"><h2 id="unmergeable">Changes bough cannot merge (${r.unmergeable.length})</h2>
<p>Record them as a migration (<code>bough migrate apply</code>, replayed on merge) or undo them on the branch.</p>
<ul>${r.unmergeable.map((u) => html`<li><code>${u.key}</code>: ${u.fields.join(", ")}${u.details.map((d) => html`<br><span class="muted">${d}</span>`)}</li>`)}</ul></section>`
    : ""
}
${LAYERS.map((l) => layerSection(r, l))}
<details><summary>The whole preview SQL</summary><pre>${r.preview}</pre></details>`;
}
