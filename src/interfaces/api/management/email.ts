import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { emailOutbox, emailTemplateSet, emailTemplates } from "../../../branches/email.ts";
import type { ManagementDeps } from "./context.ts";
import * as P from "./platform-schemas.ts";
import * as S from "./schemas.ts";

const tags = ["email"];

/** `bough email outbox` and `bough email templates list|set`. */
export function emailRoutes({ ctxOf }: ManagementDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/projects/:project/branches/:branch/email/outbox",
      {
        schema: {
          tags,
          summary:
            "Mail the branch queued, sent or held (a branch sends only once SMTP is set on it)",
          params: S.BranchParams,
          querystring: P.LimitQuery,
          response: { 200: P.Outbox, ...S.ERRORS },
        },
      },
      async (req) => emailOutbox(ctxOf(req), { ...req.params, limit: req.query.limit }),
    );

    app.get(
      "/projects/:project/branches/:branch/email/templates",
      {
        schema: {
          tags,
          summary: "The branch's auth mail templates",
          params: S.BranchParams,
          response: { 200: P.EmailTemplates, ...S.ERRORS },
        },
      },
      async (req) => emailTemplates(ctxOf(req), req.params),
    );

    app.put(
      "/projects/:project/branches/:branch/email/templates/:type",
      {
        schema: {
          tags,
          summary: "Set a template ({{ .ConfirmationURL }}, {{ .Token }}, ...); merged as config",
          params: P.TemplateParams,
          body: P.SetTemplateBody,
          response: { 200: P.EmailTemplate, ...S.ERRORS },
        },
      },
      async (req) => emailTemplateSet(ctxOf(req), { ...req.params, ...req.body }),
    );
  };
}
