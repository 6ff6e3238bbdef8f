import { randomBytes } from "node:crypto";
import type { FastifyReply } from "fastify";
import { managementError } from "./errors.ts";
import type { OperationInfoT } from "./schemas.ts";

// Finished operations kept for polling; the oldest finished ones are dropped past this.
const KEEP_FINISHED = 500;

/**
 * Long requests of the management API (create, merge, reset) run as operations of this
 * server: answered at once with 202 and a status URL to poll, or, with `?wait=true`,
 * when done. The work itself is the same call either way; an operation lives as long as
 * the server (the journal in the control plane is what survives a crash).
 */
export interface Operations {
  /** Runs work and answers the request (202 + Location, or `okStatus` with the result when waiting). */
  run(
    reply: FastifyReply,
    o: { kind: string; wait?: boolean; okStatus: 200 | 201; work: () => Promise<unknown> },
  ): Promise<FastifyReply>;
  get(id: string): OperationInfoT | undefined;
}

export function operations(): Operations {
  const all = new Map<string, OperationInfoT>();
  const prune = () => {
    const finished = [...all.values()].filter((op) => op.status !== "running");
    for (const op of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      all.delete(op.id);
    }
  };
  return {
    async run(reply, o) {
      if (o.wait) return reply.code(o.okStatus).send(await o.work());
      const id = `op_${randomBytes(12).toString("base64url")}`;
      const op: OperationInfoT = {
        id,
        kind: o.kind,
        status: "running",
        statusUrl: `/v1/operations/${id}`,
        startedAt: new Date().toISOString(),
        finishedAt: null,
      };
      all.set(id, op);
      o.work().then(
        (result) => {
          Object.assign(op, { status: "succeeded", result, finishedAt: new Date().toISOString() });
          prune();
        },
        (err: unknown) => {
          const e = managementError(err);
          if (e.status >= 500) reply.log.error(err);
          const error = { status: e.status, ...e.body };
          Object.assign(op, { status: "failed", error, finishedAt: new Date().toISOString() });
          prune();
        },
      );
      return reply.code(202).header("location", op.statusUrl).send(op);
    },
    get: (id) => all.get(id),
  };
}
