import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** A project's secrets key (32 random bytes from a 0600 file outside every database). */
export interface SecretKey {
  projectId: number;
  key: Buffer;
}

/**
 * What a ciphertext is bound to (GCM additional data): the project, the branch the value
 * was set on, the name and the production-only flag. A branch superuser who rewrites
 * `set_on_branch` to pass an inherited value off as the branch's own, flips the flag, or
 * swaps ciphertexts between rows gets a decryption failure, never the value.
 */
export interface SealedAs {
  branchId: number;
  name: string;
  productionOnly: boolean;
}

const aad = (k: SecretKey, s: SealedAs) =>
  Buffer.from(`${k.projectId}:${s.branchId}:${s.name}:${s.productionOnly ? 1 : 0}`, "utf8");

/** AES-256-GCM with a fresh 96-bit IV: `v1.<iv>.<tag>.<data>`, base64url parts. */
export function seal(k: SecretKey, as: SealedAs, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", k.key, iv);
  cipher.setAAD(aad(k, as));
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), data]
    .map((x) => (typeof x === "string" ? x : x.toString("base64url")))
    .join(".");
}

/** The plaintext, or null when the ciphertext or anything it is bound to was altered. */
export function unseal(k: SecretKey, as: SealedAs, sealed: string): string | null {
  const [version, iv, tag, data] = sealed.split(".");
  if (version !== "v1" || iv === undefined || tag === undefined || data === undefined) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", k.key, Buffer.from(iv, "base64url"));
    decipher.setAAD(aad(k, as));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([
      decipher.update(Buffer.from(data, "base64url")),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    return null;
  }
}
