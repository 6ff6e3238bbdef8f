import pg from "pg";

/** A fresh connection to url; the caller ends it. */
export async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Introspection and fingerprint options: spread the catalog queries over more connections to url. */
export const sideConnections = (url: string) => ({ connect: () => connectTo(url) });

/** Runs fn on a fresh connection to url, always closing it. */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connectTo(url);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
