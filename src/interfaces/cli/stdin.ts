import { BoughError } from "../../core/errors.ts";

/**
 * A secret value piped on stdin (so it stays out of the shell history and `ps`), without
 * the one trailing newline `echo` adds. Refused from a terminal: nothing would end it.
 */
export async function readSecretStdin(what: string, flag: string): Promise<string> {
  if (process.stdin.isTTY) {
    throw new BoughError(
      "INVALID_INPUT",
      `no ${what} given`,
      `pipe it on stdin (printf %s "$VALUE" | bough ...) or pass ${flag}`,
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (text === "") {
    throw new BoughError(
      "INVALID_INPUT",
      `the ${what} on stdin is empty`,
      `pipe a non-empty ${what}`,
    );
  }
  return text;
}
