/**
 * The module a function's process runs first: it replaces `Deno.serve` so the user's
 * `Deno.serve(handler)` (any of its call shapes) or `export default { fetch }` listens on a
 * loopback port of the kernel's choosing, announced on stderr with a per-process nonce, and
 * turns an uncaught handler error into a 500 bough can tell apart. It exits when bough does
 * (its parent changes), so a killed `bough up` leaves no process behind.
 */
export function bootModule(nonce: string): string {
  return `
const original = Deno.serve.bind(Deno);
const parent = Deno.ppid;
let served = false;
setInterval(() => { if (Deno.ppid !== parent) Deno.exit(0); }, 1000);
function wrap(handler) {
  return async (req, info) => {
    try {
      return await handler(req, info);
    } catch (err) {
      console.error(err);
      return new Response(JSON.stringify({ code: "WORKER_ERROR", message: "Function threw an uncaught exception (check logs)" }),
        { status: 500, headers: { "content-type": "application/json", "x-bough-outcome": "error" } });
    }
  };
}
Deno.serve = (a, b) => {
  const handler = typeof a === "function" ? a : typeof b === "function" ? b : a?.handler ?? a?.fetch;
  if (typeof handler !== "function") throw new TypeError("Deno.serve: no handler given");
  if (served) throw new Error("bough runs one Deno.serve per function");
  served = true;
  return original({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => Deno.stderr.writeSync(new TextEncoder().encode("\\n${nonce} " + port + "\\n")),
  }, wrap(handler));
};
export function serveDefault(mod) {
  if (served) return;
  if (typeof mod?.fetch === "function") return Deno.serve(mod.fetch.bind(mod));
  console.error("the function neither called Deno.serve(handler) nor exported default { fetch }");
  Deno.exit(70);
}
`;
}

/** The main module: the boot module, then the user's entrypoint (static imports run in order). */
export function mainModule(entrypoint: string): string {
  const spec = JSON.stringify(`./${entrypoint}`);
  return `import { serveDefault } from "./__bough_boot.js";\nimport * as mod from ${spec};\nserveDefault(mod.default);\n`;
}
