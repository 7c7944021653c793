/**
 * Fuzzing the wire: batches of generated Engine.IO / Socket.IO frames (malformed packets, wrong
 * attachment counts, placeholders, deep JSON, oversized and truncated frames, binary garbage) sent
 * over a raw WebSocket or raw HTTP long-polling to a real guarded server. The server's handlers
 * re-validate everything they receive; after every batch a legitimate client must be answered.
 */
import fc from "fast-check";
import { WebSocket } from "ws";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, toWebSocketUrl } from "../../helpers/clients.js";
import { RawPollingClient } from "../../helpers/raw-polling.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";

/** What the target server admits; its handlers check the same by hand. */
export const WIRE_POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true, maxPayload: "16KiB", maxDenials: "1000/1m" },
  namespaces: {
    "/": {
      auth: "none",
      events: {
        msg: {
          schema: {
            type: "object",
            properties: { text: { type: "string", maxLength: 32 } },
            required: ["text"],
            additionalProperties: false,
          },
        },
        pair: { args: [{ type: "integer", minimum: 0, maximum: 9 }, { type: "boolean" }] },
        blob: { args: [{ binary: { maxBytes: 64 } }] },
        nothing: { args: [] },
      },
    },
  },
} as Policy;

type Args = readonly unknown[];

/** The handlers' own check of what reached them (the ack callback, when asked for, comes last). */
const EXPECTED: Readonly<Record<string, (args: Args) => boolean>> = {
  msg: ([value, ...rest]) =>
    rest.length === 0 &&
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype &&
    Object.keys(value).length === 1 &&
    typeof (value as { text?: unknown }).text === "string" &&
    (value as { text: string }).text.length <= 32,
  pair: ([number, flag, ...rest]) =>
    rest.length === 0 &&
    Number.isInteger(number) &&
    (number as number) >= 0 &&
    (number as number) <= 9 &&
    typeof flag === "boolean",
  blob: ([data, ...rest]) => rest.length === 0 && Buffer.isBuffer(data) && data.length <= 64,
  nothing: (args) => args.length === 0,
};

/** A running target: a guarded server, a legitimate client, and what the handlers saw. */
export interface WireTarget {
  readonly url: string;
  /** Events that reached a handler though they break the policy (must stay empty). */
  readonly violations: string[];
  /** Events admitted and re-validated by a handler. */
  readonly admitted: { count: number };
  /** The guard's decisions (denials), for a failure's report. */
  readonly decisions: readonly Decision[];
  /** Resolves when the legitimate client is answered; rejects after `timeoutMs`. */
  legitimateAnswered(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWireTarget(): Promise<WireTarget> {
  const cleanup = new Cleanup();
  const violations: string[] = [];
  const admitted = { count: 0 };
  const server = await startGuardedServer(cleanup, { policy: WIRE_POLICY, logger: silentLogger() }).catch(
    async (error: unknown) => {
      await cleanup.run();
      throw error;
    },
  );
  server.io.on("connection", (socket) => {
    socket.onAny((event: string, ...received: unknown[]) => {
      const last = received.at(-1);
      const ack = typeof last === "function" ? (last as (reply: unknown) => void) : undefined;
      const args = ack ? received.slice(0, -1) : received;
      const check = EXPECTED[event];
      if (!check || !check(args))
        violations.push(`${JSON.stringify(event).slice(0, 40)} ${describeArgs(args)}`);
      else admitted.count += 1;
      ack?.("ok");
    });
  });
  const legit: ClientSocket = createClient(cleanup, server.url, "/", {
    transports: ["websocket"],
    reconnection: true,
  });
  await connected(legit);
  let counter = 0;
  return {
    url: server.url,
    violations,
    admitted,
    decisions: server.decisions,
    async legitimateAnswered(timeoutMs = 5000) {
      if (!legit.connected) await connected(legit, timeoutMs);
      counter += 1;
      let timer: NodeJS.Timeout | undefined;
      const reply = await Promise.race([
        emitWithReply(legit, "msg", { text: `hello ${counter}` }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("the legitimate client was not answered")), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      if (reply !== "ok") throw new Error(`the legitimate client got ${JSON.stringify(reply)}`);
    },
    async close() {
      // The client first, so that its WebSocket's closing handshake completes before the server goes.
      legit.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await cleanup.run();
    },
  };
}

function describeArgs(args: Args): string {
  try {
    return JSON.stringify(args).slice(0, 120);
  } catch {
    return `${args.length} argument(s)`;
  }
}

function silentLogger(): { info(): void; warn(): void; error(): void; debug(): void } {
  const nothing = (): void => undefined;
  return { info: nothing, warn: nothing, error: nothing, debug: nothing };
}

// ---- frames ----

const eventName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("msg", "pair", "blob", "nothing") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "constructor",
      "__proto__",
      "toString",
      "sockguard:reauth",
      "error",
      "connect",
      "disconnect",
      "newListener",
      "sockguard:denied",
      "",
    ),
  },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null)) },
);

const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ text: fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null)) }),
  fc.record({ text: fc.string({ maxLength: 8 }), extra: fc.jsonValue({ maxDepth: 1 }) }),
  fc.record({
    _placeholder: fc.constant(true),
    num: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.string({ maxLength: 3 })),
  }),
  fc.integer({ min: -2, max: 12 }).map((depth) => nestedArray(Math.max(0, depth * 20))),
  fc.nat({ max: 40_000 }).map((size) => "x".repeat(size)),
  fc.constantFrom(1e308, -0, 2 ** 53 + 2, true, false),
);

function nestedArray(depth: number): unknown {
  let value: unknown = 0;
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
}

/** `arbitrary`'s value with probability `chance`, otherwise null. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, chance: number): fc.Arbitrary<T | null> {
  const weight = Math.round(chance * 100);
  return fc.oneof({ weight, arbitrary }, { weight: 100 - weight, arbitrary: fc.constant(null) });
}

const socketIoPacket: fc.Arbitrary<string> = fc
  .record({
    type: fc.oneof(
      { weight: 8, arbitrary: fc.constant("2") },
      { weight: 3, arbitrary: fc.constantFrom("0", "1", "3", "4", "5", "6", "7", "9", "x", "") },
    ),
    attachments: sometimes(fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant(1e9)), 0.2),
    namespace: sometimes(fc.constantFrom("/", "/admin", "/chat,", "//", "/\u0000"), 0.15),
    ackId: sometimes(fc.oneof(fc.nat({ max: 99 }), fc.constant(2 ** 53)), 0.5),
    name: eventName,
    args: fc.oneof(
      { weight: 3, arbitrary: fc.array(jsonValue, { maxLength: 3 }) },
      { weight: 2, arbitrary: fc.tuple(fc.record({ text: fc.string({ maxLength: 40 }) })) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: -1, max: 10 }), fc.boolean()) },
    ),
    cut: sometimes(fc.nat(), 0.15),
  })
  .map((parts) => {
    const attachments = parts.attachments === null ? "" : `${parts.attachments}-`;
    const namespace = parts.namespace === null ? "" : `${parts.namespace},`;
    const ackId = parts.ackId === null ? "" : String(parts.ackId);
    const body = JSON.stringify([parts.name, ...parts.args]);
    const packet = `${parts.type}${attachments}${namespace}${ackId}${body}`;
    return parts.cut === null ? packet : packet.slice(0, parts.cut % (packet.length + 1));
  });

/** One frame: text (an engine.io packet) or binary. */
export type WireFrame = { readonly text: string } | { readonly binary: Buffer };

export const wireFrame: fc.Arbitrary<WireFrame> = fc.oneof(
  { weight: 8, arbitrary: socketIoPacket.map((packet) => ({ text: `4${packet}` })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom("2", "3", "5", "6", "1", "0", "", "4", "40", "41", "b", "bAAAA", "4\u0000")
      .map((text) => ({ text })),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 64 }).map((text) => ({ text })) },
  {
    weight: 2,
    arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ binary: Buffer.from(bytes) })),
  },
);

/** A batch: which transport, and its frames. */
export interface WireBatch {
  readonly transport: "websocket" | "polling";
  readonly frames: readonly WireFrame[];
}

export const wireBatch: fc.Arbitrary<WireBatch> = fc.record({
  transport: fc.constantFrom("websocket" as const, "polling" as const),
  frames: fc.array(wireFrame, { minLength: 1, maxLength: 12 }),
});

/** Sends one batch to `url` over a fresh connection (its namespace connected first), then closes it. */
export async function sendBatch(url: string, batch: WireBatch): Promise<void> {
  if (batch.transport === "websocket") await sendOverWebSocket(url, batch.frames);
  else await sendOverPolling(url, batch.frames);
}

async function sendOverWebSocket(url: string, frames: readonly WireFrame[]): Promise<void> {
  const socket = new WebSocket(`${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("message", () => resolve());
      socket.once("error", reject);
      socket.once("close", () => resolve());
    });
    if (socket.readyState !== WebSocket.OPEN) return;
    // Socket.IO closes a connection that sends an event before its namespace is connected.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      socket.on("message", (data) => {
        if (/^4[04]/.test(data.toString())) done();
      });
      socket.once("close", done);
      socket.send("40");
    });
    for (const frame of frames) {
      if (socket.readyState !== WebSocket.OPEN) break;
      if ("text" in frame) socket.send(frame.text);
      else socket.send(frame.binary, { binary: true });
    }
    // A last valid event with an acknowledgement: once it is answered, everything before it was read.
    await new Promise<void>((resolve) => {
      if (socket.readyState !== WebSocket.OPEN) return resolve();
      const timer = setTimeout(resolve, 1000);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      socket.on("message", (data) => {
        if (data.toString().startsWith("43999")) done();
      });
      socket.once("close", done);
      socket.send('42999["nothing"]');
    });
  } finally {
    socket.terminate();
  }
}

async function sendOverPolling(url: string, frames: readonly WireFrame[]): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const client = await RawPollingClient.open(cleanup, url);
    await client.post("40");
    // The connect's answer first: Socket.IO closes a connection that sends an event before it.
    await client.nextPacket((packet) => /^[04]/.test(packet), 1000).catch(() => undefined);
    const payloads = frames.map((frame) =>
      "text" in frame ? frame.text : `b${frame.binary.toString("base64")}`,
    );
    // Several packets in one POST, as engine.io-client sends them.
    for (let index = 0; index < payloads.length && !client.closed; index += 4) {
      await client.post(...payloads.slice(index, index + 4)).catch(() => undefined);
    }
  } catch {
    // A refused handshake ends the batch; the legitimate client's check follows either way.
  } finally {
    await cleanup.run();
  }
}
