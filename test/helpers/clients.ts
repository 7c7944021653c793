/**
 * Real clients for tests: socket.io-client sockets (polling or WebSocket), raw HTTP requests and
 * raw WebSocket upgrades with exactly the headers a test forges, and a raw Socket.IO client that
 * sends packets socket.io-client never would (numeric event names, `error` events, 10,000-deep
 * nesting). Everything is closed by the test's {@link Cleanup}.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import {
  io as ioClient,
  type ManagerOptions,
  type Socket as ClientSocket,
  type SocketOptions,
} from "socket.io-client";
import { WebSocket, type RawData } from "ws";
import type { Cleanup } from "./cleanup.js";
import { TEST_TLS } from "./socket-server.js";
import { nextEvent } from "./wait.js";

export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** What `connect_error` carries for a refused namespace connect. */
export interface ConnectRefusal {
  readonly message: string;
  readonly data?: { readonly code?: string; readonly message?: string; readonly retryAfterMs?: number };
}

/**
 * A socket.io-client socket to `url` + `namespace`, not reconnecting, trusting the test
 * certificate; disconnected by `cleanup`.
 *
 * @example
 * const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
 * await connected(client);
 */
export function createClient(
  cleanup: Cleanup,
  url: string,
  namespace = "/",
  options: ClientOptions = {},
): ClientSocket {
  const client = ioClient(`${url}${namespace === "/" ? "" : namespace}`, {
    forceNew: true,
    reconnection: false,
    timeout: 3000,
    ca: TEST_TLS.cert,
    ...options,
  });
  cleanup.add(() => {
    client.disconnect();
    client.io.engine?.close();
  });
  return client;
}

/** Resolves once `client` is connected; rejects with the `connect_error`. */
export function connected(client: ClientSocket, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (client.connected) return resolve();
    const timer = setTimeout(() => reject(new Error("no connect within the timeout")), timeoutMs);
    client.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("connect_error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Resolves with the `connect_error` of a connect that must be refused; rejects if it connects. */
export function refused(client: ClientSocket, timeoutMs = 3000): Promise<ConnectRefusal> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("neither connect nor connect_error within the timeout")),
      timeoutMs,
    );
    client.once("connect", () => {
      clearTimeout(timer);
      reject(new Error("the client connected, but the connect should have been refused"));
    });
    client.once("connect_error", (error: Error & { data?: ConnectRefusal["data"] }) => {
      clearTimeout(timer);
      resolve({ message: error.message, ...(error.data ? { data: error.data } : {}) });
    });
  });
}

/**
 * Resolves with `"connected"`, or with the code a refused connect carries (its message when it has
 * none): for tests that count how many of several connects a budget admits.
 *
 * @example
 * assert.equal(await connectOutcome(client), "too_many_connections");
 */
export async function connectOutcome(client: ClientSocket, timeoutMs = 3000): Promise<string> {
  const refusal = await refused(client, timeoutMs).catch((error: Error) => {
    if (client.connected) return undefined;
    throw error;
  });
  return refusal === undefined ? "connected" : (refusal.data?.code ?? refusal.message);
}

/** Emits with an acknowledgement and resolves with the reply (rejects after `timeoutMs`). */
export function emitWithReply(client: ClientSocket, event: string, ...args: unknown[]): Promise<unknown> {
  return client.timeout(3000).emitWithAck(event, ...args);
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One HTTP request with exactly `headers` (no keep-alive), resolving with the whole response.
 *
 * @example
 * const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`, { origin: "https://evil.example" });
 */
export function rawRequest(
  url: string,
  headers: Record<string, string> = {},
  method = "GET",
  body?: string,
): Promise<RawResponse> {
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { method, headers: { connection: "close", ...headers }, agent: false, ca: TEST_TLS.cert },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The engine.io session id of a polling handshake response body (`0{"sid":...}`). */
export function sessionIdOf(handshakeBody: string): string {
  return (JSON.parse(handshakeBody.slice(1)) as { sid: string }).sid;
}

export type UpgradeResult =
  | { readonly opened: true; readonly socket: WebSocket }
  | {
      readonly opened: false;
      readonly status: number;
      readonly body: string;
      /** The `Retry-After` header, when the refusal carried one. */
      readonly retryAfter?: string;
    };

/**
 * A raw WebSocket upgrade to `url` (ws:// or wss://) with exactly `headers`; resolves with the open
 * socket (closed by `cleanup`) or the refusal's status and body.
 *
 * @example
 * const result = await rawUpgrade(cleanup, `${wsUrl}/socket.io/?EIO=4&transport=websocket`, { origin: "https://evil.example" });
 */
export function rawUpgrade(
  cleanup: Cleanup,
  url: string,
  headers: Record<string, string> = {},
): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, ca: TEST_TLS.cert });
    cleanup.add(() => socket.terminate());
    socket.once("open", () => resolve({ opened: true, socket }));
    socket.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      const retryAfter = res.headers["retry-after"];
      const refusal = (): UpgradeResult => ({
        opened: false,
        status: res.statusCode ?? 0,
        body: Buffer.concat(chunks).toString("utf8"),
        ...(retryAfter === undefined ? {} : { retryAfter }),
      });
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(refusal()));
      res.on("error", () => resolve(refusal()));
    });
    socket.once("error", (error) => reject(error));
  });
}

/**
 * Removes and resolves with the first packet of `packets` (already received or coming) that
 * `matches`; rejects after `timeoutMs`, listing what did arrive.
 */
export async function takePacket(
  packets: string[],
  matches: (packet: string) => boolean,
  timeoutMs = 3000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = packets.find(matches);
    if (found !== undefined) {
      packets.splice(packets.indexOf(found), 1);
      return found;
    }
    if (Date.now() > deadline)
      throw new Error(`no matching packet within ${timeoutMs} ms; got ${packets.join(" | ")}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `http://host:port` → `ws://host:port` (and https → wss). */
export function toWebSocketUrl(url: string): string {
  return url.replace(/^http/, "ws");
}

/**
 * A Socket.IO client speaking the protocol by hand over a raw WebSocket, for packets socket.io-client
 * refuses to send. It answers pings and records every Socket.IO packet the server sends.
 *
 * @example
 * const raw = await RawSocketIoClient.connect(cleanup, url, "/chat");
 * raw.sendPacket('2["error","forged"]');
 */
export class RawSocketIoClient {
  /** Socket.IO packets received (engine.io message payloads, without the leading "4"). */
  readonly packets: string[] = [];
  readonly #socket: WebSocket;
  readonly #namespace: string;
  #closed = false;

  private constructor(socket: WebSocket, namespace: string) {
    this.#socket = socket;
    this.#namespace = namespace;
    socket.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      const text = data.toString();
      if (text === "2") return socket.send("3");
      if (text.startsWith("4")) this.packets.push(text.slice(1));
    });
    socket.on("close", () => {
      this.#closed = true;
    });
  }

  /** Opens an engine.io WebSocket session to `url` and connects to `namespace` (with `auth`, if any). */
  static async connect(
    cleanup: Cleanup,
    url: string,
    namespace = "/",
    options: { headers?: Record<string, string>; auth?: Record<string, unknown> } = {},
  ): Promise<RawSocketIoClient> {
    const socket = new WebSocket(`${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`, {
      headers: options.headers ?? {},
      ca: TEST_TLS.cert,
    });
    cleanup.add(() => socket.terminate());
    const [open] = await nextEvent<[RawData]>(socket, "message");
    if (!open.toString().startsWith("0"))
      throw new Error(`expected an engine.io open packet, got ${open.toString()}`);
    const client = new RawSocketIoClient(socket, namespace);
    const prefix = namespace === "/" ? "" : `${namespace},`;
    socket.send(`40${prefix}${options.auth ? JSON.stringify(options.auth) : ""}`);
    const reply = await client.nextPacket(
      (packet) => packet.startsWith(`0${prefix}`) || packet.startsWith(`4${prefix}`),
    );
    if (!reply.startsWith(`0${prefix}`)) throw new Error(`the namespace connect was refused: ${reply}`);
    return client;
  }

  /** The namespace prefix of this client's packets (`/chat,`, or nothing for `/`). */
  get namespacePrefix(): string {
    return this.#namespace === "/" ? "" : `${this.#namespace},`;
  }

  /** True once the WebSocket closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one Socket.IO packet as text (the engine.io message type "4" is added). */
  sendPacket(packet: string): void {
    this.#socket.send(`4${packet}`);
  }

  /** Sends an event packet `2<nsp>[json...]`; `ackId` asks for an acknowledgement. */
  sendEvent(json: string, ackId?: number): void {
    this.sendPacket(`2${this.namespacePrefix}${ackId ?? ""}${json}`);
  }

  /** Sends a binary attachment frame (after a `5N-...` packet). */
  sendBinary(data: Buffer): void {
    this.#socket.send(data, { binary: true });
  }

  /** Resolves with the first received packet (already received or coming) that `matches`. */
  nextPacket(matches: (packet: string) => boolean, timeoutMs = 3000): Promise<string> {
    return takePacket(this.packets, matches, timeoutMs);
  }

  /** Resolves with the acknowledgement (the parsed argument list) for `ackId`. */
  async ackFor(ackId: number, timeoutMs = 3000): Promise<unknown[]> {
    const prefix = `3${this.namespacePrefix}${ackId}[`;
    const packet = await this.nextPacket((p) => p.startsWith(prefix), timeoutMs);
    return JSON.parse(packet.slice(prefix.length - 1)) as unknown[];
  }

  close(): void {
    this.#socket.terminate();
  }
}
