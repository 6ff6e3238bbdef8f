import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { secretsList, secretsPolicy, secretsSet, secretsUnset } from "../../../branches/secrets.ts";
import type { ManagementDeps } from "./context.ts";
import * as P from "./platform-schemas.ts";
import * as S from "./schemas.ts";

const tags = ["secrets"];

/** `bough secrets list|set|unset|policy`: values go in, never come out. */
export function secretRoutes({ ctxOf }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/secrets",
      {
        schema: {
          tags,
          summary: "A branch's secrets: names, where they come from and how exposed, never values",
          params: S.BranchParams,
          response: { 200: P.SecretList, ...S.ERRORS },
        },
      },
      async (req) => secretsList(ctxOf(req), req.params),
    );

    app.put(
      "/projects/:project/branches/:branch/secrets/:key",
      {
        schema: {
          tags,
          summary: "Set a secret on a branch (its functions get it as an env variable)",
          params: P.SecretParams,
          body: P.SetSecretBody,
          response: { 200: P.SecretSet, ...S.ERRORS },
        },
      },
      async (req) => secretsSet(ctxOf(req), { ...req.params, ...req.body }),
    );

    app.delete(
      "/projects/:project/branches/:branch/secrets/:key",
      {
        schema: {
          tags,
          summary: "Remove a secret from a branch",
          params: P.SecretParams,
          response: { 200: P.SecretUnset, ...S.ERRORS },
        },
      },
      async (req) => secretsUnset(ctxOf(req), req.params),
    );

    app.get(
      "/projects/:project/secrets/policy",
      {
        schema: {
          tags,
          summary: "What branches created from now on see of inherited secrets",
          params: S.ProjectParams,
          response: { 200: P.SecretsPolicy, ...S.ERRORS },
        },
      },
      async (req) => secretsPolicy(ctxOf(req), req.params),
    );

    app.put(
      "/projects/:project/secrets/policy",
      {
        schema: {
          tags,
          summary: "Set the policy: copy, empty or mask (production-only secrets: never seen)",
          params: S.ProjectParams,
          body: P.SetSecretsPolicyBody,
          response: { 200: P.SecretsPolicy, ...S.ERRORS },
        },
      },
      async (req) => secretsPolicy(ctxOf(req), { ...req.params, policy: req.body.policy }),
    );
  };
}
