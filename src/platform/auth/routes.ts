import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  adminCreateUser,
  adminDeleteUser,
  adminGetConfig,
  adminGetUser,
  adminListProviders,
  adminListUsers,
  adminPutConfig,
  adminPutProvider,
  adminUpdateUser,
} from "./admin.ts";
import type { AuthPluginOptions } from "./context.ts";
import { AuthError, authErrorBody } from "./errors.ts";
import * as S from "./schemas.ts";
import {
  getUser,
  logout,
  passwordGrant,
  putUser,
  recover,
  refreshGrant,
  sendOtp,
  settings,
  signUp,
  verify,
} from "./service.ts";

/**
 * GoTrue-compatible `/auth/v1` of one branch (the subset supabase-js' auth client uses).
 * Routes are thin: input checked by their TypeBox schemas, work done in service.ts/admin.ts.
 */
export function authRoutes(o: AuthPluginOptions): FastifyPluginAsyncTypebox {
  const { platformOf } = o;
  return async (app) => {
    app.setErrorHandler((err, req, reply) => {
      const { status, body } = authErrorBody(err);
      if (status >= 500) req.log.error(err);
      reply.code(status).send(body);
    });
    app.setNotFoundHandler((req, reply) => {
      reply.code(404).send({
        code: 404,
        error_code: "not_found",
        msg: `no route ${req.method} ${req.url.split("?")[0]}`,
      });
    });

    app.get("/settings", { schema: { response: { 200: S.Settings } } }, async (req) =>
      settings(await platformOf(req)),
    );

    app.post(
      "/signup",
      { schema: { body: S.SignUpBody, querystring: S.RedirectQuery } },
      async (req) => {
        const { email, password, data } = req.body;
        return signUp(await platformOf(req), {
          email,
          password,
          data,
          redirectTo: req.query.redirect_to,
        });
      },
    );

    app.post(
      "/token",
      { schema: { querystring: S.TokenQuery, body: S.TokenBody, response: { 200: S.Session } } },
      async (req) => {
        const ar = await platformOf(req);
        switch (req.query.grant_type) {
          case "password":
            return passwordGrant(ar, req.body ?? {});
          case "refresh_token":
            return refreshGrant(ar, req.body ?? {});
          default:
            throw new AuthError(400, "unsupported_grant_type", "unsupported grant_type", true);
        }
      },
    );

    app.get("/user", { schema: { response: { 200: S.User } } }, async (req) =>
      getUser(await platformOf(req)),
    );
    app.put(
      "/user",
      { schema: { body: S.UpdateUserBody, response: { 200: S.User } } },
      async (req) => putUser(await platformOf(req), req.body),
    );

    app.post("/logout", { schema: { querystring: S.LogoutQuery } }, async (req, reply) => {
      await logout(await platformOf(req), req.query.scope ?? "global");
      return reply.code(204).send();
    });

    app.post(
      "/recover",
      { schema: { body: S.EmailBody, querystring: S.RedirectQuery } },
      async (req) => {
        await recover(await platformOf(req), {
          email: req.body.email,
          redirectTo: req.query.redirect_to,
        });
        return {};
      },
    );

    for (const path of ["/otp", "/magiclink"]) {
      app.post(path, { schema: { body: S.OtpBody, querystring: S.RedirectQuery } }, async (req) => {
        const b = req.body;
        await sendOtp(await platformOf(req), {
          email: b.email,
          createUser: b.create_user,
          data: b.data,
          redirectTo: req.query.redirect_to,
        });
        return {};
      });
    }

    app.post("/verify", { schema: { body: S.VerifyBody } }, async (req) => {
      const r = await verify(await platformOf(req), {
        ...req.body,
        redirectTo: req.body.redirect_to,
      });
      return r.session;
    });
    // The link in a mail: spends the token, then redirects with the session in the fragment.
    app.get("/verify", { schema: { querystring: S.VerifyQuery } }, async (req, reply) => {
      const q = req.query;
      const r = await verify(await platformOf(req), {
        type: q.type,
        token: q.token,
        redirectTo: q.redirect_to,
      });
      const s = r.session;
      const fragment = new URLSearchParams({
        access_token: String(s.access_token),
        expires_at: String(s.expires_at),
        expires_in: String(s.expires_in),
        refresh_token: String(s.refresh_token),
        token_type: "bearer",
        type: r.type,
      });
      return reply.redirect(`${r.redirectTo}#${fragment}`, 303);
    });

    app.get(
      "/admin/users",
      { schema: { querystring: S.PageQuery, response: { 200: S.UserList } } },
      async (req, reply) => {
        const page = Number(req.query.page || 1) || 1;
        const perPage = Math.min(Number(req.query.per_page || 50) || 50, 1000);
        const r = await adminListUsers(await platformOf(req), { page, perPage });
        const last = Math.max(1, Math.ceil(r.total / perPage));
        const links = [`</admin/users?page=${last}&per_page=${perPage}>; rel="last"`];
        if (page < last)
          links.unshift(`</admin/users?page=${page + 1}&per_page=${perPage}>; rel="next"`);
        reply.header("x-total-count", String(r.total)).header("link", links.join(", "));
        return { users: r.users, aud: "authenticated" };
      },
    );
    app.post(
      "/admin/users",
      { schema: { body: S.AdminUserBody, response: { 200: S.User } } },
      async (req) => adminCreateUser(await platformOf(req), req.body),
    );
    app.get(
      "/admin/users/:id",
      { schema: { params: S.UserIdParams, response: { 200: S.User } } },
      async (req) => adminGetUser(await platformOf(req), req.params.id),
    );
    app.put(
      "/admin/users/:id",
      { schema: { params: S.UserIdParams, body: S.AdminUserBody, response: { 200: S.User } } },
      async (req) => adminUpdateUser(await platformOf(req), req.params.id, req.body),
    );
    app.delete(
      "/admin/users/:id",
      { schema: { params: S.UserIdParams, response: { 200: S.User } } },
      async (req) => adminDeleteUser(await platformOf(req), req.params.id),
    );
    app.get("/admin/config", async (req) => adminGetConfig(await platformOf(req)));
    app.put("/admin/config", { schema: { body: S.AuthConfigBody } }, async (req) =>
      adminPutConfig(await platformOf(req), req.body),
    );
    app.get("/admin/providers", async (req) => adminListProviders(await platformOf(req)));
    app.put(
      "/admin/providers/:provider",
      { schema: { params: S.ProviderParams, body: S.ProviderBody } },
      async (req) => adminPutProvider(await platformOf(req), req.params.provider, req.body),
    );
  };
}
