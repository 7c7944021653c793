/**
 * The sockguard chat demo, started by `npm start`.
 *
 * One Node process serves the chat page, a DEMO ONLY token issuer (with its JWKS) and a Socket.IO
 * server guarded by `policies/chat.yaml`. Edit the policy while it runs: the guard reloads it and
 * this process prints the new policy, or the diagnostics of a bad edit (the old policy then stays
 * in force). Every denial is printed as a `decision {json}` line. The guard's Prometheus metrics
 * are served at /metrics (prom-client), and its latest decisions at /guard/decisions, which the
 * page's "What the guard decided" panel shows.
 *
 * It listens on 127.0.0.1 only, never on other interfaces: its token issuer hands any token to
 * anyone who asks.
 *
 * Environment:
 *   CHAT_PORT         the port (default 3000); the policy reads the same variable for its origins
 *                     and its issuer's URLs
 *   SOCKGUARD_POLICY  the policy file (default policies/chat.yaml in this repository)
 */
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { Server } from "socket.io";
import { loadPolicy, sockguard } from "../../dist/index.js";
import { registerChatHandlers } from "./chat-handlers.js";
import { describePolicy, formatDecision, formatDiagnostics, RecentDecisions } from "./console-report.js";
import { createDemoIssuer } from "./demo-issuer.js";
import { createRequestHandler } from "./http-routes.js";

const HOST = "127.0.0.1";
const DEFAULT_POLICY = fileURLToPath(new URL("../../policies/chat.yaml", import.meta.url));

/** The port from CHAT_PORT, which must be a port a browser can open (the policy builds its URLs from it). */
function readPort() {
  const text = process.env.CHAT_PORT ?? "3000";
  const port = Number(text);
  if (!/^[1-9][0-9]{0,4}$/.test(text) || port > 65535) {
    console.error(`CHAT_PORT must be a port number from 1 to 65535, not "${text}"`);
    process.exit(2);
  }
  return port;
}

/**
 * @param {import("node:http").Server} server
 * @param {number} port
 */
function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, HOST, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
}

/**
 * @param {string} policyPath
 * @param {RecentDecisions} recent told the namespaces the policy now declares
 */
async function printPolicy(policyPath, recent) {
  const loaded = await loadPolicy(policyPath);
  if (loaded.policy) recent.declare(Object.keys(loaded.policy.namespaces));
  for (const line of describePolicy(loaded)) console.log(line);
}

async function main() {
  const port = readPort();
  const origin = `http://${HOST}:${port}`;
  const policyPath = path.resolve(process.env.SOCKGUARD_POLICY ?? DEFAULT_POLICY);

  const loaded = await loadPolicy(policyPath);
  if (!loaded.policy) {
    console.error(`The policy ${policyPath} does not load; the demo never starts unguarded:`);
    for (const line of formatDiagnostics(loaded.diagnostics)) console.error(line);
    process.exit(1);
  }

  // The page and the issuer's JWKS are served first, so the guard finds the keys as soon as it
  // asks for them. Socket.IO is attached only once the guard is in place: until then
  // /socket.io/ answers 404, never an unguarded connection.
  const issuer = await createDemoIssuer(`${origin}/demo-issuer`);
  const metrics = new Registry();
  const recent = new RecentDecisions(Object.keys(loaded.policy.namespaces));
  const httpServer = createServer(createRequestHandler(issuer, { metrics, recent }));
  try {
    await listen(httpServer, port);
  } catch (error) {
    const hint = error.code === "EADDRINUSE" ? "; set CHAT_PORT to a free port" : "";
    console.error(`cannot listen on ${origin}: ${error.code ?? error.message}${hint}`);
    process.exit(1);
  }

  const io = new Server();
  // Allows too, for the page's panel; the console prints the denials only.
  const guard = await sockguard(io, { policy: policyPath, metrics, decisions: "all" });
  guard.on("decision", (decision) => {
    recent.add(decision);
    if (!decision.allowed) console.log(formatDecision(decision));
  });
  guard.on("reload", ({ version }) => {
    console.log(`reload    policy version ${version.slice(0, 12)} is now in force`);
    printPolicy(policyPath, recent).catch((error) =>
      console.error(`reload    could not describe it: ${error.message}`),
    );
  });
  guard.on("reloadFailed", ({ diagnostics }) => {
    console.log("reload    failed: the edited policy has errors; the previous one stays in force");
    for (const line of formatDiagnostics(diagnostics)) console.log(line);
  });
  registerChatHandlers(io.of("/chat"));
  io.attach(httpServer);

  console.log("sockguard chat demo");
  console.log(`listening on ${origin}/ (127.0.0.1 only); metrics at ${origin}/metrics`);
  for (const line of describePolicy(loaded)) console.log(line);
  console.log("DEMO ONLY: the built-in token issuer gives any token to anyone on this machine.");
  console.log("Edit the policy while the demo runs to see it reload; Ctrl-C stops it.");

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await guard.close();
    } finally {
      io.close();
      process.exit(0);
    }
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error) => {
  // A policy that fails to load says why in its message, diagnostics included.
  console.error(`the chat demo could not start: ${error.message}`);
  process.exit(1);
});
