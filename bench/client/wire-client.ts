/**
 * A Socket.IO v4 client over a raw WebSocket (engine.io protocol 4), as small as a load generator
 * can be: it opens the engine session, connects one namespace with an auth payload, sends events
 * that ask for an acknowledgement and answers the server's pings. Nothing else.
 *
 * The benchmarks measure the server. socket.io-client costs about as much CPU per event as the
 * server does, so on a small machine it would become the bottleneck and hide the server's cost;
 * this client sends pre-encoded text frames and reads acks by their id, leaving the server the
 * busiest process. It speaks the real protocol to the real server: the packets are exactly what
 * socket.io-client sends for `socket.emit("echo", payload, ack)` over WebSocket.
 */
import { WebSocket, type RawData } from "ws";

/** Where and how to connect. */
export interface WireTarget {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The namespace, e.g. `/chat`. */
  readonly namespace: string;
  /** Sent as the connect packet's `auth.token`, when present. */
  readonly token?: string;
  /** The `Origin` header of the upgrade request, when present. */
  readonly origin?: string;
}

/** A refused or failed connect: the guard's code when the server sent one. */
export class WireConnectError extends Error {
  readonly code: string | undefined;

  constructor(message: string, code?: string) {
    super(message);
    this.name = "WireConnectError";
    this.code = code;
  }
}

/** Called with the raw text of the acknowledgement's arguments (a JSON array). */
export type AckListener = (argsJson: string) => void;

const ENGINE_OPEN = "0";
const ENGINE_PING = "2";
const ENGINE_PONG = "3";
const ENGINE_MESSAGE = "4";
const SIO_CONNECT = "0";
const SIO_DISCONNECT = "1";
const SIO_ACK = "3";
const SIO_CONNECT_ERROR = "4";

/**
 * One connected namespace socket.
 *
 * @example
 * const client = await WireClient.connect({ url, namespace: "/chat", token, origin });
 * client.emitWithAck("echo", JSON.stringify(payload), (reply) => console.log(reply));
 * client.close();
 */
export class WireClient {
  readonly #ws: WebSocket;
  readonly #prefix: string;
  readonly #acks = new Map<number, AckListener>();
  #nextId = 0;
  #closed = false;

  private constructor(ws: WebSocket, namespace: string) {
    this.#ws = ws;
    this.#prefix = namespace === "/" ? "" : `${namespace},`;
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (!isBinary) this.#onText(rawText(data));
    });
    ws.on("close", () => this.#drop());
    ws.on("error", () => this.#drop());
  }

  /**
   * Opens the engine session and connects the namespace. Resolves once the server admitted the
   * socket; rejects with {@link WireConnectError} (carrying the guard's code) when it refused it, or
   * when nothing happened within `timeoutMs`.
   */
  static connect(target: WireTarget, timeoutMs = 10_000): Promise<WireClient> {
    const endpoint = `${target.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(endpoint, {
      perMessageDeflate: false,
      ...(target.origin === undefined ? {} : { headers: { origin: target.origin } }),
    });
    const connectPacket =
      ENGINE_MESSAGE +
      SIO_CONNECT +
      (target.namespace === "/" ? "" : `${target.namespace},`) +
      (target.token === undefined ? "" : JSON.stringify({ token: target.token }));
    const connectedPrefix =
      ENGINE_MESSAGE + SIO_CONNECT + (target.namespace === "/" ? "" : `${target.namespace},`);
    const refusedPrefix =
      ENGINE_MESSAGE + SIO_CONNECT_ERROR + (target.namespace === "/" ? "" : `${target.namespace},`);

    return new Promise((resolve, reject) => {
      const fail = (error: WireConnectError): void => {
        clearTimeout(timer);
        ws.removeAllListeners("message");
        ws.on("error", () => undefined);
        ws.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new WireConnectError("no connect within the timeout")), timeoutMs);
      ws.on("error", (error) => fail(new WireConnectError(`the WebSocket failed: ${error.message}`)));
      ws.on("unexpected-response", (_request, response) =>
        fail(new WireConnectError(`the upgrade was answered with HTTP ${response.statusCode}`)),
      );
      ws.on("close", () => fail(new WireConnectError("the server closed the connection")));
      ws.on("message", (data: RawData) => {
        const text = rawText(data);
        if (text.startsWith(ENGINE_OPEN)) {
          ws.send(connectPacket);
        } else if (text === ENGINE_PING) {
          ws.send(ENGINE_PONG);
        } else if (text.startsWith(connectedPrefix)) {
          clearTimeout(timer);
          ws.removeAllListeners();
          resolve(new WireClient(ws, target.namespace));
        } else if (text.startsWith(refusedPrefix)) {
          fail(
            new WireConnectError(
              "the namespace connect was refused",
              refusalCode(text.slice(refusedPrefix.length)),
            ),
          );
        }
      });
    });
  }

  /** True until the connection closed. */
  get open(): boolean {
    return !this.#closed;
  }

  /**
   * Sends `event` with one argument (its JSON text, already encoded) and asks for an
   * acknowledgement; `onAck` gets the acknowledgement's arguments as JSON text.
   */
  emitWithAck(event: string, argumentJson: string, onAck: AckListener): void {
    if (this.#closed) throw new Error("the connection is closed");
    const id = this.#nextId++;
    this.#acks.set(id, onAck);
    this.#ws.send(`${ENGINE_MESSAGE}2${this.#prefix}${id}[${JSON.stringify(event)},${argumentJson}]`);
  }

  /** Closes the WebSocket (and with it the engine session); pending acks are dropped. */
  close(): void {
    this.#drop();
    this.#ws.terminate();
  }

  #onText(text: string): void {
    if (text === ENGINE_PING) {
      this.#ws.send(ENGINE_PONG);
      return;
    }
    if (!text.startsWith(ENGINE_MESSAGE)) return;
    const type = text[1];
    const body = text.slice(2 + this.#prefix.length);
    if (type === SIO_ACK) {
      let end = 0;
      while (end < body.length && body.charCodeAt(end) >= 48 && body.charCodeAt(end) <= 57) end++;
      const id = Number(body.slice(0, end));
      const listener = this.#acks.get(id);
      if (listener === undefined) return;
      this.#acks.delete(id);
      listener(body.slice(end));
    } else if (type === SIO_DISCONNECT) {
      this.close();
    }
  }

  #drop(): void {
    this.#closed = true;
    this.#acks.clear();
  }
}

function rawText(data: RawData): string {
  if (typeof data === "string") return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

/** The guard's code from a CONNECT_ERROR packet's body (`{"message":...,"data":{"code":...}}`). */
function refusalCode(json: string): string | undefined {
  try {
    const body: unknown = JSON.parse(json);
    if (typeof body !== "object" || body === null) return undefined;
    const data: unknown = (body as { data?: unknown }).data;
    if (typeof data !== "object" || data === null) return undefined;
    const code: unknown = (data as { code?: unknown }).code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}
