import { randomInt } from "node:crypto";
import { createServer } from "node:net";
import { BoughError } from "../core/errors.ts";

export const PORT_MIN = 54320;
export const PORT_MAX = 60999;

/** True when nothing listens on 127.0.0.1:port (we could bind it ourselves). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A random free port in 54320-60999 that is not reserved (ports of stopped branches
 * are reserved in the control plane even though nothing listens on them).
 */
export async function pickFreePort(reserved: ReadonlySet<number>): Promise<number> {
  const span = PORT_MAX - PORT_MIN + 1;
  // Random probes first (concurrent pickers rarely collide), then a full sweep so a
  // crowded range still yields its last free port.
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(PORT_MIN, PORT_MAX + 1);
    if (!reserved.has(port) && (await isPortFree(port))) return port;
  }
  const offset = randomInt(0, span);
  for (let i = 0; i < span; i++) {
    const port = PORT_MIN + ((offset + i) % span);
    if (!reserved.has(port) && (await isPortFree(port))) return port;
  }
  throw new BoughError(
    "ENVIRONMENT",
    `no free port found in ${PORT_MIN}-${PORT_MAX}`,
    "stop or delete some branches, or free ports in that range",
  );
}
