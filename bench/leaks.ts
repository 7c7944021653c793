/**
 * `npm run leaks`: the heap after a full GC per policy reload and per connect-and-disconnect, in
 * one process (run with --expose-gc). A guarded server watches its policy file (chokidar, the
 * reloader, the swap and the recheck of live sockets all run) and is reloaded --reloads times, every
 * fifth rewrite broken, with 20 sockets connected; then --connects clients connect with a token
 * (arming a token expiry), send one event and disconnect, --concurrency at a time. Prints the heap
 * at each sample and the growth per operation as the least-squares slope after the first fifth.
 *
 * Options: --reloads N (600), --connects N (6000), --concurrency N (20), --snapshots DIR (write a
 * heap snapshot after the warm-up and at the end of each phase, to compare in DevTools).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { SignJWT } from "jose";
import { Server } from "socket.io";
import { io as connectClient, type Socket } from "socket.io-client";
import { sockguard } from "../src/index.js";
import { policyRewrite, SOAK_ISSUER, SOAK_NAMESPACE, soakPolicy } from "./soak/soak-policy.js";
import { linearFit } from "./stats.js";

const { values } = parseArgs({
  options: {
    reloads: { type: "string", default: "600" },
    connects: { type: "string", default: "6000" },
    concurrency: { type: "string", default: "20" },
    snapshots: { type: "string" },
  },
});
const reloads = Number(values.reloads);
const connects = Number(values.connects);
const concurrency = Number(values.concurrency);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc (npm run leaks does)");

const secret = randomBytes(36).toString("base64url");
process.env[SOAK_ISSUER.secretVariable] = secret;
const key = new TextEncoder().encode(secret);
const dir = await mkdtemp(join(tmpdir(), "sockguard-leaks-"));
const policyFile = join(dir, "policy.yaml");
const base = soakPolicy({ budgets: false });
await writeFile(policyFile, base);

const httpServer = createServer((_req, res) => res.writeHead(404).end());
const io = new Server(httpServer);
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
const guard = await sockguard(io, { policy: policyFile, logger: quiet });
io.of(SOAK_NAMESPACE).on("connection", (socket) => {
  socket.on("note", (_note: unknown, ack: (reply: string) => void) => ack("ok"));
});
await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
let subjects = 0;

try {
  const resident = await Promise.all(Array.from({ length: 20 }, () => connect()));
  await measure("reload", reloads, Math.max(1, Math.round(reloads / 12)), async (i) => {
    await writeFile(policyFile, policyRewrite(base, i).text);
    await guard.reload();
  });
  for (const socket of resident) socket.disconnect();
  await settled();
  await measure(
    "connect+disconnect",
    connects,
    Math.max(1, Math.round(connects / 12)),
    async () => {
      await Promise.all(Array.from({ length: concurrency }, () => connectSendLeave()));
    },
    concurrency,
  );
} finally {
  await guard.close();
  const closing = io.close();
  httpServer.closeAllConnections();
  await closing;
  await rm(dir, { recursive: true, force: true });
}

/**
 * Runs `operation` until `total` operations (each call counting `per`), sampling the heap after GC
 * every `every` operations; prints the samples and the slope after the first fifth.
 */
async function measure(
  name: string,
  total: number,
  every: number,
  operation: (i: number) => Promise<void>,
  per = 1,
): Promise<void> {
  const xs: number[] = [];
  const ys: number[] = [];
  const started = performance.now();
  const sample = async (done: number): Promise<void> => {
    await settled();
    const heap = await heapAfterGc();
    xs.push(done);
    ys.push(heap);
    console.log(`${name}: ${String(done).padStart(6)} done, heap after GC ${(heap / 2 ** 20).toFixed(3)} MB`);
  };
  await sample(0);
  let done = 0;
  let nextSample = every;
  while (done < total) {
    await operation(done + 1);
    done += per;
    if (done >= nextSample) {
      await sample(done);
      if (values.snapshots && xs.length === 3) console.log(`  snapshot ${snapshot(`${name}-warm`)}`);
      nextSample += every;
    }
  }
  if (values.snapshots) console.log(`  snapshot ${snapshot(`${name}-end`)}`);
  const warm = xs.findIndex((x) => x >= total / 5);
  const { slope, r } = linearFit(xs.slice(warm), ys.slice(warm));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${name}: ${total} in ${seconds.toFixed(1)} s; after the first fifth the heap grows ${slope.toFixed(1)} bytes per ${name} (r = ${r.toFixed(2)}, ${xs.length - warm} samples)`,
  );
}

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await nextTurn();
  }
  return process.memoryUsage().heapUsed;
}

/** Waits until the server holds no more sockets than the resident ones, and timers of closing ones ran. */
async function settled(): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (io.engine.clientsCount > 20 && Date.now() < deadline) await sleep(10);
  await sleep(50);
}

async function token(): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: "soak" })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(SOAK_ISSUER.iss)
    .setAudience(SOAK_ISSUER.aud)
    .setSubject(`leak-${subjects++}`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(key);
}

async function connect(): Promise<Socket> {
  const socket = connectClient(`${url}${SOAK_NAMESPACE}`, {
    forceNew: true,
    reconnection: false,
    transports: ["websocket"],
    auth: { token: await token() },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

async function connectSendLeave(): Promise<void> {
  const socket = await connect();
  const reply: unknown = await socket.timeout(5_000).emitWithAck("note", { text: "hello" });
  if (reply !== "ok") throw new Error(`the event was refused: ${JSON.stringify(reply)}`);
  socket.disconnect();
}

function snapshot(name: string): string {
  return writeHeapSnapshot(join(values.snapshots!, `${name}.heapsnapshot`));
}
