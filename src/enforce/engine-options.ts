/**
 * The engine.io options the policy drives: `transports` (engine.io reads it on every request) and
 * `maxHttpBufferSize` (large enough for `maxPayload`). Set on the engine when it exists, else on
 * the Socket.IO server's options, which `attach()`/`listen()` hand to the engine they create.
 *
 * The guard never widens what the app configured: the transports in force are the policy's that
 * the server was created with. Some things are fixed when the engine starts and are reported as
 * warnings instead: the WebSocket server exists only if `websocket` was allowed then, and its frame
 * limit is the `maxHttpBufferSize` of that moment.
 *
 * A transport the policy removes stays in the engine's list while the connections the guard is
 * closing on it finish (capped): engine.io refuses every request of a transport not in the list,
 * and a polling connection's last packets go out on its next request.
 */
import type { Server } from "socket.io";
import type { CompiledPolicy } from "../compile/types.js";
import type { TransportName } from "../policy/types.js";
import type { Logger } from "./context.js";
import type { ClosingConnections } from "./feedback.js";

const ENGINE_DEFAULT_TRANSPORTS: readonly TransportName[] = ["polling", "websocket"];
const ENGINE_DEFAULT_BUFFER = 1_000_000;

/** The options object engine.io reads (the engine's own, or the server's before attach). */
interface EngineOptionBag {
  transports?: TransportName[];
  maxHttpBufferSize?: number;
}

interface EngineLike {
  opts: EngineOptionBag;
  /** engine.io's WebSocket server (private): read only to warn about its frame limit. */
  ws?: { options?: { maxPayload?: number } };
}

/**
 * The engine buffer an event of `maxPayload` bytes needs: polling sends binary attachments as
 * base64 (4 bytes per 3), plus a few bytes of framing per packet.
 *
 * @example
 * engineBufferFor(1_000_000); // 1333398
 */
export function engineBufferFor(maxPayload: number): number {
  return Math.ceil((maxPayload * 4) / 3) + 64;
}

/**
 * Keeps the engine's options in step with the policy in force.
 *
 * @example
 * const engineOptions = new EngineOptions(io, logger);
 * engineOptions.apply(policy);          // at start
 * engineOptions.apply(policy, closing); // after a reload, with the connections it is closing
 * engineOptions.engineAttached();       // when attach()/listen() created the engine later
 */
export class EngineOptions {
  readonly #io: Server;
  readonly #logger: Logger;
  readonly #appTransports: readonly TransportName[];
  readonly #appBuffer: number;
  /** Whether the engine registered its WebSocket upgrade handling when it was attached (unknown before). */
  #websocketAtAttach: boolean | undefined;
  #policy: CompiledPolicy | undefined;
  /** Connections being closed, whose transports stay in the engine's list until they have closed. */
  readonly #closing = new Set<ClosingConnections>();

  constructor(io: Server, logger: Logger) {
    this.#io = io;
    this.#logger = logger;
    const engine = this.#engine();
    const source = engine?.opts ?? (io._opts as EngineOptionBag);
    this.#appTransports = Object.freeze([...(source.transports ?? ENGINE_DEFAULT_TRANSPORTS)]);
    this.#appBuffer = source.maxHttpBufferSize ?? ENGINE_DEFAULT_BUFFER;
    if (engine) this.#websocketAtAttach = this.#appTransports.includes("websocket");
  }

  /**
   * Sets the engine's options for `policy`, and warns about what only a restart can change. The
   * transports of `closing` stay open until its connections have closed.
   */
  apply(policy: CompiledPolicy, closing?: ClosingConnections): void {
    this.#policy = policy;
    if (closing && closing.transports.size > 0 && !this.#closing.has(closing)) {
      this.#closing.add(closing);
      void closing.closed.then(() => {
        this.#closing.delete(closing);
        if (this.#policy) this.#target().transports = this.#withClosing(this.#policyTransports(this.#policy));
      });
    }
    const engine = this.#engine();
    const target = this.#target();
    const transports = this.#policyTransports(policy);
    for (const name of policy.connection.transportList) {
      if (!this.#appTransports.includes(name)) {
        this.#logger.warn(
          `sockguard: the policy allows the ${name} transport, but the Socket.IO server was created without it; it stays off`,
        );
      }
    }
    target.transports = this.#withClosing(transports);
    target.maxHttpBufferSize = Math.max(this.#appBuffer, engineBufferFor(policy.connection.maxPayload));
    if (transports.includes("webtransport")) {
      this.#logger.warn(
        "sockguard: WebTransport sessions skip the HTTP checks, and engine.io closes them once engine middleware is set; use polling or websocket",
      );
    }
    if (engine && transports.includes("websocket"))
      this.#warnAboutWebSocket(engine, policy.connection.maxPayload);
  }

  /** The policy's transports that the app allowed, in the policy's order. */
  #policyTransports(policy: CompiledPolicy): TransportName[] {
    return policy.connection.transportList.filter((name) => this.#appTransports.includes(name));
  }

  /** `transports`, plus those of connections the guard is still closing. */
  #withClosing(transports: readonly TransportName[]): TransportName[] {
    const open = [...transports];
    for (const closing of this.#closing) {
      for (const name of this.#appTransports) {
        if (closing.transports.has(name) && !open.includes(name)) open.push(name);
      }
    }
    return open;
  }

  #target(): EngineOptionBag {
    return this.#engine()?.opts ?? (this.#io._opts as EngineOptionBag);
  }

  /** Called once the engine exists (after a later `attach()`/`listen()`): re-applies the policy in force. */
  engineAttached(): void {
    const engine = this.#engine();
    if (!engine) return;
    this.#websocketAtAttach = (engine.opts.transports ?? ENGINE_DEFAULT_TRANSPORTS).includes("websocket");
    if (this.#policy) this.apply(this.#policy);
  }

  #warnAboutWebSocket(engine: EngineLike, maxPayload: number): void {
    if (this.#websocketAtAttach === false) {
      this.#logger.warn(
        "sockguard: the policy allows websocket, but the engine started without it; WebSocket connections are refused until the server restarts",
      );
      return;
    }
    const frameLimit = engine.ws?.options?.maxPayload;
    // Before `listen`, engine.io recreates its WebSocket server from the options set above.
    const started = this.#io.httpServer === undefined || this.#io.httpServer.listening;
    // A frame is the packet plus engine.io's one-byte type: an event of exactly maxPayload bytes
    // needs one byte more. Only a limit below maxPayload itself is worth a warning.
    if (started && frameLimit !== undefined && frameLimit < maxPayload) {
      this.#logger.warn(
        `sockguard: WebSocket frames are limited to ${frameLimit} bytes until the server restarts (maxPayload is ${maxPayload}); ` +
          "call sockguard() before listen(), or raise maxHttpBufferSize",
      );
    }
  }

  #engine(): EngineLike | undefined {
    return (this.#io as unknown as { engine?: EngineLike }).engine;
  }
}
