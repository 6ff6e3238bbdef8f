import Table from "cli-table3";
import { type BoughError, errorClass } from "../../core/errors.ts";

/** The one writer of the CLI: JSON for machines (--json), text and tables for people. */
export interface Output {
  json: boolean;
  /** Prints data as JSON, or calls human() to print it for people. */
  result(data: unknown, human: () => void): void;
  line(text: string): void;
  table(head: string[], rows: (string | number)[][]): void;
  /** Progress for people, on stderr so stdout stays clean for pipes. */
  progress(text: string): void;
  error(err: BoughError): void;
}

export function createOutput(o: { json: boolean }): Output {
  // One JSON document per run: an error after a printed result goes to stderr only.
  let printed = false;
  return {
    json: o.json,
    result(data, human) {
      printed = true;
      if (o.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else human();
    },
    line(text) {
      process.stdout.write(`${text}\n`);
    },
    table(head, rows) {
      const table = new Table({ head, style: { head: [], border: [] } });
      for (const row of rows) table.push(row.map(String));
      process.stdout.write(`${table.toString()}\n`);
    },
    progress(text) {
      if (!o.json && process.stderr.isTTY) process.stderr.write(`… ${text}\n`);
    },
    error(err) {
      if (o.json && !printed) {
        const error = {
          code: err.code,
          message: err.message,
          hint: err.hint,
          details: err.details,
        };
        process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
      }
      process.stderr.write(`error: ${err.message}\nhint: ${err.hint}\n`);
      if (process.env.BOUGH_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    },
  };
}

/** An error the session already printed; main only turns it into an exit code. */
export class ReportedError extends Error {
  constructor(readonly error: BoughError) {
    super(error.message);
  }
}

/** Exit codes, mapped from error classes in this one place. */
export const EXIT = { ok: 0, failure: 1, conflict: 2, usage: 64 } as const;

export function exitCodeFor(err: BoughError): number {
  return EXIT[errorClass(err.code)];
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "unknown";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
