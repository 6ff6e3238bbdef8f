import type { FastifyRequest } from "fastify";
import type { PlatformRequest } from "../request.ts";

/** What the auth service needs beyond every service's PlatformRequest: how to sign tokens. */
export interface AuthRequest extends PlatformRequest {
  /** The project's token-signing secret (from a 0600 file, never the database). */
  jwtSecret: Uint8Array;
  /** branchTokenId() of this branch: the branch claim of every token issued here. */
  branchToken: string;
  /** This branch's API base URL as the client reached it (token issuer, links in mail). */
  apiUrl: string;
  /** Called when the request queued mail: the server delivers it once the request has committed. */
  mailQueued?: () => void;
}

export interface AuthPluginOptions {
  platformOf: (req: FastifyRequest) => Promise<AuthRequest>;
}
