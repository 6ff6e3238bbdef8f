import { type Static, Type } from "typebox";

// Inputs and outputs of /auth/v1, as supabase-js sends and reads them (GoTrue's shapes).
// Extra fields supabase-js adds (gotrue_meta_security, code_challenge...) are allowed.

const Metadata = Type.Record(Type.String(), Type.Unknown());
const Email = Type.String({ maxLength: 255 });
const Password = Type.String({ maxLength: 1024 });

export const User = Type.Object(
  {
    id: Type.String(),
    aud: Type.String(),
    role: Type.String(),
    email: Type.String(),
    app_metadata: Metadata,
    user_metadata: Metadata,
    identities: Type.Array(Metadata),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { additionalProperties: true },
);

export const Session = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal("bearer"),
  expires_in: Type.Number(),
  expires_at: Type.Number(),
  refresh_token: Type.String(),
  user: User,
});

export const SignUpBody = Type.Object({
  email: Email,
  password: Password,
  data: Type.Optional(Metadata),
});

export const TokenQuery = Type.Object({ grant_type: Type.String({ maxLength: 64 }) });
export const TokenBody = Type.Object({
  email: Type.Optional(Email),
  password: Type.Optional(Password),
  refresh_token: Type.Optional(Type.String({ maxLength: 256 })),
});

export const RedirectQuery = Type.Object({
  redirect_to: Type.Optional(Type.String({ maxLength: 2048 })),
});

export const UpdateUserBody = Type.Object({
  email: Type.Optional(Email),
  password: Type.Optional(Password),
  data: Type.Optional(Metadata),
});

export const LogoutQuery = Type.Object({
  scope: Type.Optional(
    Type.Union([Type.Literal("global"), Type.Literal("local"), Type.Literal("others")]),
  ),
});

export const EmailBody = Type.Object({ email: Email });

export const OtpBody = Type.Object({
  email: Email,
  create_user: Type.Optional(Type.Boolean()),
  data: Type.Optional(Metadata),
});

export const VerifyType = Type.Union(
  ["signup", "recovery", "magiclink", "email"].map((t) => Type.Literal(t)),
);

export const VerifyBody = Type.Object({
  type: VerifyType,
  token_hash: Type.Optional(Type.String({ maxLength: 256 })),
  token: Type.Optional(Type.String({ maxLength: 256 })),
  email: Type.Optional(Email),
  redirect_to: Type.Optional(Type.String({ maxLength: 2048 })),
});

export const VerifyQuery = Type.Object({
  type: VerifyType,
  token: Type.String({ maxLength: 256 }),
  redirect_to: Type.Optional(Type.String({ maxLength: 2048 })),
});

export const Settings = Type.Object({
  external: Type.Record(Type.String(), Type.Boolean()),
  disable_signup: Type.Boolean(),
  mailer_autoconfirm: Type.Boolean(),
  phone_autoconfirm: Type.Boolean(),
  sms_provider: Type.String(),
  saml_enabled: Type.Boolean(),
});

export const AdminUserBody = Type.Object({
  email: Type.Optional(Email),
  password: Type.Optional(Password),
  email_confirm: Type.Optional(Type.Boolean()),
  user_metadata: Type.Optional(Metadata),
  app_metadata: Type.Optional(Metadata),
});

export const UserIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

// supabase-js sends `page=&per_page=` when it has no value: digits or nothing.
export const PageQuery = Type.Object({
  page: Type.Optional(Type.String({ pattern: "^[0-9]{0,6}$" })),
  per_page: Type.Optional(Type.String({ pattern: "^[0-9]{0,4}$" })),
});

export const UserList = Type.Object({ users: Type.Array(User), aud: Type.String() });

export const AuthConfigBody = Type.Object(
  {
    site_url: Type.Optional(Type.String({ maxLength: 2048 })),
    uri_allow_list: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 100 })),
    password_min_length: Type.Optional(Type.Integer({ minimum: 6, maximum: 128 })),
    disable_signup: Type.Optional(Type.Boolean()),
    mailer_autoconfirm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ProviderParams = Type.Object({
  provider: Type.String({ pattern: "^[a-z][a-z0-9_-]{0,62}$" }),
});

export const ProviderBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    client_id: Type.Optional(Type.String({ maxLength: 1024 })),
    client_secret: Type.Optional(Type.String({ maxLength: 4096 })),
    redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);

export type UserJson = Static<typeof User> & Record<string, unknown>;
export type SessionJson = Static<typeof Session>;
export type SettingsJson = Static<typeof Settings>;
