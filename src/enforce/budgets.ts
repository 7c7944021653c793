/**
 * Budgets at the handshake and at namespace connects (DESIGN §1.1): `connection.rateLimit`
 * (handshakes per address) and `connection.maxConnections` (live Engine.IO connections per
 * address), a namespace's `rateLimit` (connects per key) and `maxConnections` (live sockets per
 * subject). Counting is the stores' (rate-limiter-flexible, in memory or in Redis); this file picks
 * the key, holds each place taken, and frees it the moment its connection or socket closes,
 * whichever way it closes. The per-event budgets are spent in events.ts.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "socket.io";
import { budgetKey, type BudgetSpender } from "../budget/keys.js";
import { spendBudgets } from "../budget/spend.js";
import type { QuotaRule, RateRule } from "../budget/types.js";
import type { BudgetStores } from "../cluster/budget-stores.js";
import type { CompiledConnection, CompiledNamespace, Identity } from "../compile/types.js";
import type { Rule } from "../decisions.js";
import type { EngineConnection } from "./packet-size.js";
import { connectionId, onSocketCleanup } from "./socket-io-internals.js";

/** A budget that refused: the code, the policy key, and for a rate limit how long to wait. */
export interface BudgetRefusal {
  readonly code: "rate_limited" | "too_many_connections";
  readonly rule: Rule | undefined;
  readonly retryAfterMs?: number;
}

/** A connection place taken at the handshake, until its Engine.IO connection exists. */
interface HandshakePlace {
  readonly rule: QuotaRule;
  readonly key: string;
  readonly holder: string;
  /** Bound to its connection, or freed: the handshake's own timer leaves it alone. */
  settled: boolean;
}

/**
 * How long a place taken at the handshake waits for the Engine.IO connection it was taken for
 * (engine.io emits `connection` within the same request, or when the WebSocket upgrade completes);
 * a handshake that failed after the guard let it through frees its place after this.
 */
export const UNBOUND_PLACE_MS = 10_000;

/**
 * The guard's budgets: its stores, and the places taken at handshakes not yet bound to their
 * Engine.IO connection.
 *
 * @example
 * const budgets = new GuardBudgets(budgetStoresFor());
 * const refusal = await budgets.admitHandshake(policy.connection, req, address);
 */
export class GuardBudgets {
  readonly stores: BudgetStores;
  readonly #pending = new WeakMap<IncomingMessage, HandshakePlace>();
  #holders = 0;

  constructor(stores: BudgetStores) {
    this.stores = stores;
  }

  /**
   * Spends the handshake's budgets for the client `address`: one point of `connection.rateLimit`,
   * then a place of `connection.maxConnections`, held until the Engine.IO connection this request
   * opens closes ({@link bindConnection}). Resolves undefined when both allow. The place of an
   * `upgrade` (a direct WebSocket) that never becomes a connection is freed when its TCP
   * connection closes (the WebSocket server refused the handshake).
   */
  async admitHandshake(
    connection: CompiledConnection,
    req: IncomingMessage,
    address: string | undefined,
    upgrade = false,
  ): Promise<BudgetRefusal | undefined> {
    const spender: BudgetSpender = { identity: undefined, address, connection: "" };
    const limited = await this.#spendRate(connection.rateLimit, spender);
    if (limited) return limited;
    const quota = connection.maxConnections;
    if (!quota) return undefined;
    const place: HandshakePlace = {
      rule: quota,
      key: budgetKey("address", spender),
      holder: `handshake:${++this.#holders}`,
      settled: false,
    };
    if (!(await this.stores.quota.acquire(place.rule, place.key, place.holder))) {
      return { code: "too_many_connections", rule: quota.rule };
    }
    this.#pending.set(req, place);
    // An upgrade's TCP connection is the WebSocket's own: it closes after the place is bound, or
    // without one ever being bound (also while the store was answering).
    if (upgrade) {
      if (req.socket.closed) this.releaseHandshake(req);
      else req.socket.once("close", () => this.releaseHandshake(req));
    }
    setTimeout(() => {
      if (!place.settled) this.#release(place);
    }, UNBOUND_PLACE_MS).unref();
    return undefined;
  }

  /**
   * Binds the place the handshake of `conn` took (if it took one) to `conn`: it is freed when the
   * connection closes. Call it from the engine's `connection` event.
   */
  bindConnection(conn: EngineConnection): void {
    const place = this.#pending.get(conn.request);
    if (!place || place.settled) return;
    place.settled = true;
    this.#pending.delete(conn.request);
    conn.once("close", () => this.#release(place));
  }

  /**
   * Frees at once the place the handshake `req` took, when engine.io refused that request after the
   * guard let it through (the app's `allowRequest`, a protocol version it does not speak): no
   * connection will ever close to free it. Call it from the engine's `connection_error` event.
   */
  releaseHandshake(req: IncomingMessage): void {
    const place = this.#pending.get(req);
    if (!place || place.settled) return;
    place.settled = true;
    this.#pending.delete(req);
    this.#release(place);
  }

  /**
   * Spends a namespace connect's budgets for `socket` holding `identity`: one point of the
   * namespace's `rateLimit`, then a place of its `maxConnections` (per subject; anonymous per
   * address), freed when the socket ends, whichever way (refused later by the app's middleware,
   * closed before its connect completed, disconnected). Resolves undefined when both allow.
   */
  async admitConnect(
    namespace: CompiledNamespace,
    socket: Socket,
    identity: Identity | undefined,
    address: string | undefined,
  ): Promise<BudgetRefusal | undefined> {
    const spender: BudgetSpender = { identity, address, connection: connectionId(socket) };
    const limited = await this.#spendRate(namespace.rateLimit, spender);
    if (limited) return limited;
    const quota = namespace.maxConnections;
    if (!quota) return undefined;
    const key = budgetKey("subject", spender);
    const holder = `socket:${socket.id}`;
    if (!(await this.stores.quota.acquire(quota, key, holder))) {
      return { code: "too_many_connections", rule: quota.rule };
    }
    const quotas = this.stores.quota;
    // Socket.IO calls `_cleanup` on every end of a socket whose middleware chain finished; the
    // connection's close covers a connect whose later (app) middleware never called `next`.
    const conn = socket.conn;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      conn.off("close", release);
      void quotas.release(quota, key, holder).catch(() => undefined);
    };
    conn.once("close", release);
    onSocketCleanup(socket, release);
    return undefined;
  }

  /** Forgets the counters of rate limits `ids` does not name (after a reload put a policy in force). */
  retain(ids: ReadonlySet<string>): void {
    this.stores.rate.retain(ids);
  }

  /** Spends one point of `limit` (when there is one); the refusal when it has none left. */
  async #spendRate(limit: RateRule | undefined, spender: BudgetSpender): Promise<BudgetRefusal | undefined> {
    if (!limit) return undefined;
    const spent = await spendBudgets(this.stores.rate, [limit], spender);
    if (spent.allowed) return undefined;
    return { code: "rate_limited", rule: spent.limit.rule, retryAfterMs: spent.retryAfterMs };
  }

  #release(place: HandshakePlace): void {
    void this.stores.quota.release(place.rule, place.key, place.holder).catch(() => undefined);
  }
}
