import type { FastifyRequest } from "fastify";
import type { Ctx } from "../../../branches/context.ts";
import type { Operations } from "./operations.ts";

/** What each route module of the management API gets. */
export interface ManagementDeps {
  /** The control-plane context of this request, with its actor (the admin key's name). */
  ctxOf(req: FastifyRequest): Ctx;
  ops: Operations;
}
