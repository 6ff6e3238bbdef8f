import type { Readable } from "node:stream";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { BlobStore } from "../../blobs/blob-store.ts";
import type { Branch, Project } from "../../core/types.ts";
import type { AuthRequest } from "../auth/context.ts";
import type { BranchDb } from "../request.ts";
import { branchTokenId } from "../tokens.ts";
import {
  createBucket,
  deleteBucket,
  emptyBucket,
  getBucket,
  listBuckets,
  updateBucket,
} from "./buckets.ts";
import { objectNotFound, storageErrorBody } from "./errors.ts";
import { multipartFile } from "./multipart.ts";
import {
  canRead,
  copyObject,
  listObjects,
  moveObject,
  openObject,
  removeObjects,
  type StorageRequest,
  uploadObject,
} from "./objects.ts";
import { signObjectToken, verifyObjectToken } from "./signed.ts";

export interface StoragePluginOptions {
  platformOf: (req: FastifyRequest) => Promise<AuthRequest>;
  /** The request's branch without a caller: public and signed URLs carry no key. */
  branchOf: (
    req: FastifyRequest,
  ) => Promise<{ project: Project; branch: Branch; db: BranchDb; jwtSecret: Uint8Array }>;
  /** The blob store a project's branches share. */
  blobsOf: (project: Project) => BlobStore;
  /** Largest upload any bucket accepts, bytes (default 5 GiB). */
  maxUploadBytes?: number;
}

const BucketBody = Type.Object({
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  public: Type.Optional(Type.Boolean()),
  file_size_limit: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
  allowed_mime_types: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  type: Type.Optional(Type.String()),
});
const IdParams = Type.Object({ id: Type.String() });
const ObjectParams = Type.Object({ bucket: Type.String(), "*": Type.String() });
const MoveBody = Type.Object({
  bucketId: Type.String(),
  sourceKey: Type.String(),
  destinationKey: Type.String(),
  destinationBucket: Type.Optional(Type.String()),
});
const ListBody = Type.Object({
  prefix: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  search: Type.Optional(Type.String()),
  sortBy: Type.Optional(
    Type.Object({ column: Type.Optional(Type.String()), order: Type.Optional(Type.String()) }),
  ),
});
const SignBody = Type.Object({ expiresIn: Type.Integer({ minimum: 1 }) });
const RemoveBody = Type.Object({ prefixes: Type.Array(Type.String(), { maxItems: 1000 }) });

/**
 * Supabase Storage-compatible `/storage/v1` of one branch (the subset supabase-js' storage
 * client uses). Object bytes are streamed into and out of the project's blob store.
 */
export function storageRoutes(o: StoragePluginOptions): FastifyPluginAsyncTypebox {
  const maxUploadBytes = o.maxUploadBytes ?? 5 * 1024 ** 3;
  const storageOf = async (req: FastifyRequest): Promise<StorageRequest> => {
    const r = await o.platformOf(req);
    return { ...r, blobs: o.blobsOf(r.project), maxUploadBytes };
  };
  return async (app) => {
    app.setErrorHandler((err, req, reply) => {
      const { status, body } = storageErrorBody(err);
      if (status >= 500) req.log.error(err);
      reply.code(status).send(body);
    });

    app.get("/bucket", async (req) => listBuckets(await o.platformOf(req)));
    app.get("/bucket/:id", { schema: { params: IdParams } }, async (req) =>
      getBucket(await o.platformOf(req), req.params.id),
    );
    app.post("/bucket", { schema: { body: BucketBody } }, async (req) =>
      createBucket(await o.platformOf(req), req.body),
    );
    app.put("/bucket/:id", { schema: { params: IdParams, body: BucketBody } }, async (req) =>
      updateBucket(await o.platformOf(req), req.params.id, req.body),
    );
    app.post("/bucket/:id/empty", { schema: { params: IdParams } }, async (req) =>
      emptyBucket(await o.platformOf(req), req.params.id),
    );
    app.delete("/bucket/:id", { schema: { params: IdParams } }, async (req) =>
      deleteBucket(await o.platformOf(req), req.params.id),
    );

    app.post("/object/list/:bucket", { schema: { body: ListBody } }, async (req) =>
      listObjects(await storageOf(req), (req.params as { bucket: string }).bucket, req.body),
    );
    app.post("/object/move", { schema: { body: MoveBody } }, async (req) =>
      moveObject(await storageOf(req), req.body),
    );
    app.post("/object/copy", { schema: { body: MoveBody } }, async (req) =>
      copyObject(await storageOf(req), req.body),
    );
    app.delete(
      "/object/:bucket",
      { schema: { body: RemoveBody, params: Type.Object({ bucket: Type.String() }) } },
      async (req) => removeObjects(await storageOf(req), req.params.bucket, req.body.prefixes),
    );

    const send = (reply: FastifyReply, obj: Awaited<ReturnType<typeof openObject>>) => {
      const m = obj.metadata as { mimetype?: string; size?: number; eTag?: string };
      return reply
        .header("content-type", m.mimetype ?? "application/octet-stream")
        .header("content-length", String(m.size ?? ""))
        .header("etag", m.eTag ?? "")
        .header("last-modified", obj.updatedAt.toUTCString())
        .send(obj.body);
    };
    for (const path of ["/object/:bucket/*", "/object/authenticated/:bucket/*"]) {
      app.get(path, { schema: { params: ObjectParams } }, async (req, reply) =>
        send(reply, await openObject(await storageOf(req), req.params.bucket, req.params["*"])),
      );
    }
    app.get(
      "/object/public/:bucket/*",
      { schema: { params: ObjectParams } },
      async (req, reply) => {
        const b = await o.branchOf(req);
        const src = { db: b.db, blobs: o.blobsOf(b.project) };
        return send(
          reply,
          await openObject(src, req.params.bucket, req.params["*"], { publicOnly: true }),
        );
      },
    );

    app.post(
      "/object/sign/:bucket/*",
      { schema: { params: ObjectParams, body: SignBody } },
      async (req) => {
        const r = await storageOf(req);
        const { bucket } = req.params;
        const name = req.params["*"];
        if (!(await canRead(r, bucket, name))) throw objectNotFound();
        const token = await signObjectToken(r.jwtSecret, {
          url: `${bucket}/${name}`,
          branch: r.branchToken,
          expiresIn: req.body.expiresIn,
        });
        return { signedURL: `/object/sign/${bucket}/${name}?token=${token}` };
      },
    );
    app.get(
      "/object/sign/:bucket/*",
      { schema: { params: ObjectParams, querystring: Type.Object({ token: Type.String() }) } },
      async (req, reply) => {
        const b = await o.branchOf(req);
        const { bucket } = req.params;
        const name = req.params["*"];
        await verifyObjectToken(b.jwtSecret, req.query.token, {
          url: `${bucket}/${name}`,
          branch: branchTokenId(b.branch),
        });
        return send(
          reply,
          await openObject({ db: b.db, blobs: o.blobsOf(b.project) }, bucket, name),
        );
      },
    );

    // Uploads get their body as the raw stream (a child context: JSON routes keep their parser).
    app.register(async (up) => {
      up.removeAllContentTypeParsers();
      up.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
      for (const method of ["POST", "PUT"] as const) {
        up.route({
          method,
          url: "/object/:bucket/*",
          schema: { params: ObjectParams },
          handler: async (req) => {
            let contentType = String(req.headers["content-type"] ?? "application/octet-stream");
            let body = req.body as Readable;
            let cacheControl = req.headers["cache-control"];
            let contentLength: number | undefined = Number(req.headers["content-length"]);
            if (contentType.toLowerCase().startsWith("multipart/form-data")) {
              const form = await multipartFile(body, contentType);
              ({ contentType } = form);
              body = form.file;
              if (form.fields.cacheControl) cacheControl = `max-age=${form.fields.cacheControl}`;
              contentLength = undefined; // the form's length, not the file's
            }
            const params = req.params as { bucket: string; "*": string };
            return uploadObject(await storageOf(req), {
              bucket: params.bucket,
              name: params["*"],
              body,
              contentType,
              contentLength: Number.isFinite(contentLength) ? contentLength : undefined,
              cacheControl,
              mode:
                method === "PUT"
                  ? "update"
                  : req.headers["x-upsert"] === "true"
                    ? "upsert"
                    : "insert",
            });
          },
        });
      }
    });
  };
}
