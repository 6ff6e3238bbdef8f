/**
 * Whether migration text reaches outside the database: a program run on the server, a
 * server file read or written, untrusted code loaded, the server's configuration changed,
 * another database dialled. A branch's migrations are its author's text and run as
 * superuser on the parent when merged: the reviewer must see this before confirming.
 * A flag for review (text patterns, comments included), not a parser's verdict.
 */
const PATTERNS: RegExp[] = [
  /\bCOPY\b[^;]*\bPROGRAM\b/iu,
  /\bCOPY\b[^;]*\b(?:TO|FROM)\s+(?:E)?'/iu,
  /\b(?:pg_read_file|pg_read_binary_file|pg_ls_dir|pg_stat_file|pg_file_write|pg_file_unlink|lo_import|lo_export)\s*\(/iu,
  /\bALTER\s+SYSTEM\b/iu,
  /\bLOAD\s+'/iu,
  /\bLANGUAGE\s+'?(?:c|internal|plpython3u|plpythonu|plperlu|pltclu)'?(?:\s|;|$)/iu,
  /\bCREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(?:dblink|postgres_fdw|file_fdw|adminpack)\b/iu,
  /\bdblink\w*\s*\(/iu,
];

export function reachesOutside(sql: string): boolean {
  return PATTERNS.some((p) => p.test(sql));
}
