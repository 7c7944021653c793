/**
 * Runs a guard in a process where prom-client cannot be found, as in an app that never installed
 * it: a resolve hook refuses the specifier `prom-client` (and records that it was asked for). With
 * `metrics` as argument, the guard is given a registry-shaped object and must say prom-client is
 * missing. Prints one JSON line: what happened, and whether prom-client was ever asked for.
 */
import { createServer } from "node:http";
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";

const HOOK = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, nextResolve) {
  if (specifier === "prom-client" || specifier.startsWith("prom-client/")) {
    port.postMessage(specifier);
    const error = new Error("Cannot find package 'prom-client'");
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return nextResolve(specifier, context);
}
`;

const asked: string[] = [];
const { port1, port2 } = new MessageChannel();
port1.on("message", (specifier: string) => asked.push(specifier));
port1.unref();
register(`data:text/javascript,${encodeURIComponent(HOOK)}`, {
  data: { port: port2 },
  transferList: [port2],
});

const { Server } = await import("socket.io");
const { sockguard } = await import("../../../src/index.js");

const withMetrics = process.argv[2] === "metrics";
const httpServer = createServer();
const io = new Server(httpServer);
const registryShaped = { registerMetric: () => undefined, metrics: () => "" };
let outcome: string;
try {
  const guard = await sockguard(io, {
    policy: { version: 1, connection: { allowMissingOrigin: true }, namespaces: { "/": { auth: "none" } } },
    logDecisions: "all",
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    advisories: false,
    ...(withMetrics ? { metrics: registryShaped as never } : {}),
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = httpServer.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
  await response.text();
  await guard.close();
  outcome = `guarded, handshake ${response.status}`;
} catch (error) {
  outcome = `rejected: ${error instanceof Error ? error.message : String(error)}`;
}
// Let the hook thread's last message arrive.
await new Promise((resolve) => setTimeout(resolve, 50));
io.close();
process.stdout.write(`${JSON.stringify({ outcome, asked })}\n`);
