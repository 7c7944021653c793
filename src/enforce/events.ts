/**
 * The per-event path. Each admitted socket gets its own `onevent`, so a refused event reaches no
 * `onAny` listener, no `socket.use` middleware and no handler (Socket.IO runs `onAny` before
 * `socket.use`, so middleware alone could not stop it). The verdict is decide/'s
 * ({@link decideEvent}: reserved name → declared → token expiry → claims → budget → size → ack →
 * binary → schema); this file only gathers the facts and applies the verdict.
 *
 * An event that spends a rate limit waits for its store's answer. While one waits, the socket's
 * later events wait behind it ({@link ArrivalOrder}), so every event is decided and dispatched in
 * the order it arrived; at most `MAX_UNDECIDED_EVENTS` (64) wait at once, and one more is refused
 * `rate_limited`. A socket whose namespace spends no event budget never waits and allocates nothing
 * per event.
 */
import type { Socket } from "socket.io";
import { ArrivalOrder } from "../budget/arrival-order.js";
import type { BudgetSpender } from "../budget/keys.js";
import type { RateRule } from "../budget/types.js";
import {
  ALLOWED,
  decideEventAccess,
  decideEventPayload,
  eventBudgets,
  spendThenDecidePayload,
  type EventFacts,
  type Verdict,
} from "../decide/index.js";
import { blankEventFacts, decideEventIn, type MutableEventFacts } from "../decide/event.js";
import type { CompiledPolicy } from "../compile/types.js";
import type { Rule } from "../decisions.js";
import { REAUTH_EVENT } from "../policy/reserved-events.js";
import { findNamespace, type NamespaceMatch } from "../compile/namespace-lookup.js";
import { socketClientAddress } from "./client-address.js";
import type { GuardContext } from "./context.js";
import type { SocketState } from "./socket-state.js";
import { socketDecision } from "./decision-report.js";
import { readEventFacts } from "./packet-size.js";
import { handleReauth } from "./reauth.js";
import { replyCheckedDispatch } from "./emits.js";
import { refuseEvent } from "./refuse-event.js";
import { passEventInShadow } from "./shadow-mode.js";
import {
  ackCallback,
  connectionId,
  originalOnevent,
  replaceOnevent,
  type DecodedPacket,
} from "./socket-io-internals.js";

type Dispatch = (this: Socket, packet: DecodedPacket) => void;

const NO_DATA: readonly unknown[] = Object.freeze([]);
const NO_LIMITS: readonly RateRule[] = Object.freeze([]);

/**
 * The wait a client is told when its event was refused because too many of its events were
 * already waiting, or because a store could not answer at all.
 */
export const BACKLOG_RETRY_MS = 1000;

/**
 * What one socket's events are decided with besides the packet: its state, its queue (made on
 * first need), and its namespace under the policy last seen (looked up again after a reload).
 */
interface EventLane {
  /** The socket's state; set when the socket is admitted, which happens before its events are guarded. */
  state: SocketState | undefined;
  order: ArrivalOrder | undefined;
  /** The policy `match` and `budgeted` were read from. */
  seen: CompiledPolicy | undefined;
  match: NamespaceMatch | undefined;
  /** True when the namespace spends event budgets. */
  budgeted: boolean;
}

/**
 * Puts the guard in front of every event `socket` receives. Call it before the socket's connect
 * completes (from namespace middleware), so no event arrives unguarded.
 *
 * @example
 * guardSocketEvents(ctx, socket);
 */
export function guardSocketEvents(ctx: GuardContext, socket: Socket): void {
  const dispatch = replyCheckedDispatch(ctx, socket, originalOnevent(socket));
  const facts = blankEventFacts(socket.nsp.name);
  const lane: EventLane = {
    state: ctx.states.get(socket),
    order: undefined,
    seen: undefined,
    match: undefined,
    budgeted: false,
  };
  replaceOnevent(socket, (packet) => {
    if (!socket.connected) return;
    if (ctx.shadow !== undefined) ctx.shadow.judgeEvent(socket, packet);
    if (admitEvent(ctx, socket, packet, facts, lane, dispatch)) dispatch.call(socket, packet);
  });
}

/**
 * True when the event may go on to the app now; otherwise the client has been answered, or the
 * event waits for its turn (and is dispatched or refused then).
 */
function admitEvent(
  ctx: GuardContext,
  socket: Socket,
  packet: DecodedPacket,
  facts: MutableEventFacts,
  lane: EventLane,
  dispatch: Dispatch,
): boolean {
  const policy = ctx.holder.current;
  const data = Array.isArray(packet.data) ? (packet.data as unknown[]) : NO_DATA;
  // The guard's own renewal event is consumed here; decide/ refuses every other reserved name.
  if (data[0] === REAUTH_EVENT) {
    handleReauth(ctx, socket, data.slice(1), ackOf(socket, packet));
    return false;
  }
  const state = (lane.state ??= ctx.states.get(socket));
  if (!state) {
    refuse(ctx, policy, socket, packet, data, undefined);
    return false;
  }
  readEventFacts(facts, packet, state.identity, policy.connection.maxPayload);
  if (lane.seen !== policy) {
    lane.seen = policy;
    lane.match = findNamespace(policy, facts.namespace);
    lane.budgeted = lane.match?.namespace.spendsEventBudgets === true;
  }
  if (!lane.budgeted && (lane.order === undefined || lane.order.idle)) {
    // The facts object outlives the event: the data goes beside it, never into it.
    return settle(ctx, policy, socket, packet, data, decideEventIn(policy, lane.match, facts, data));
  }
  facts.data = data;
  lane.order ??= new ArrivalOrder();
  const order = lane.order;
  let limits = NO_LIMITS;
  if (order.idle) {
    // Nothing waits: decided now, unless its budget has to wait for the store.
    const access = decideEventAccess(policy, facts);
    if (access === ALLOWED) limits = eventBudgets(policy, facts);
    if (limits.length === 0) {
      const verdict = access === ALLOWED ? decideEventPayload(policy, facts) : access;
      facts.data = NO_DATA;
      return settle(ctx, policy, socket, packet, data, verdict);
    }
  }
  // This event waits for a store, or behind others that do: it is decided in its turn, on a copy
  // of its facts as they were when it arrived.
  const arrived: EventFacts = { ...facts };
  facts.data = NO_DATA;
  if (limits.length > 0) {
    // Its access checks passed above: it waits only for its budget.
    order.enqueue(() => spendThenDecide(ctx, socket, packet, arrived, policy, limits, dispatch));
    return false;
  }
  const queued = order.enqueue(() => {
    if (!socket.connected) return undefined;
    const access = decideEventAccess(policy, arrived);
    const due = access === ALLOWED ? eventBudgets(policy, arrived) : NO_LIMITS;
    if (due.length === 0) {
      // A refusal under `mode: shadow` is reported and the event goes on: settle says so.
      const verdict = access === ALLOWED ? decideEventPayload(policy, arrived) : access;
      if (settle(ctx, policy, socket, packet, data, verdict)) dispatchInTurn(socket, packet, dispatch);
      return undefined;
    }
    return spendThenDecide(ctx, socket, packet, arrived, policy, due, dispatch);
  });
  if (!queued) {
    refuseRateLimited(ctx, policy, socket, packet, data, undefined, BACKLOG_RETRY_MS);
  }
  return false;
}

/**
 * Spends the event's budgets (after its access checks passed), then runs the checks after them;
 * an event refused by those gets its points back. Dispatches it when everything allows.
 */
async function spendThenDecide(
  ctx: GuardContext,
  socket: Socket,
  packet: DecodedPacket,
  facts: EventFacts,
  policy: CompiledPolicy,
  limits: readonly RateRule[],
  dispatch: Dispatch,
): Promise<void> {
  if (!socket.connected) return;
  const spender: BudgetSpender = {
    identity: facts.identity,
    address: socketClientAddress(policy.connection, socket),
    connection: connectionId(socket),
  };
  const data = facts.data;
  let outcome;
  try {
    outcome = await spendThenDecidePayload(policy, facts, limits, ctx.budgets.stores.rate, spender);
  } catch {
    // A store never rejects (it counts in memory while its backend is down); if one did, refused.
    return refuseRateLimited(ctx, policy, socket, packet, data, undefined, BACKLOG_RETRY_MS);
  }
  if (!socket.connected) return;
  const { verdict, retryAfterMs } = outcome;
  if (retryAfterMs !== undefined) {
    if (policy.modes !== undefined && passEventInShadow(ctx, policy, socket, data, verdict, retryAfterMs))
      return dispatchInTurn(socket, packet, dispatch);
    return refuseRateLimited(ctx, policy, socket, packet, data, verdict.rule, retryAfterMs);
  }
  if (settle(ctx, policy, socket, packet, data, verdict)) dispatchInTurn(socket, packet, dispatch);
}

/**
 * Hands an event decided in its turn to the app. An error the app's handler throws is thrown
 * again outside the queue, as uncaught as it would be without the guard, and the queue goes on.
 */
function dispatchInTurn(socket: Socket, packet: DecodedPacket, dispatch: Dispatch): void {
  try {
    dispatch.call(socket, packet);
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
  }
}

/** Applies `verdict`: true when the event may go on (reported when allows are wanted), else refused. */
function settle(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  packet: DecodedPacket,
  data: readonly unknown[],
  verdict: Verdict,
): boolean {
  if (verdict === ALLOWED) {
    if (ctx.decisions.wantsAllows() && !ctx.decisions.countAllowedEvent(socket.nsp.name, data[0])) {
      const declared = declaredEventName(ctx, socket, data);
      ctx.decisions.report(socketDecision(ctx, socket, "allowed", "event", { event: declared }));
    }
    return true;
  }
  if (policy.modes !== undefined && passEventInShadow(ctx, policy, socket, data, verdict)) return true;
  refuse(ctx, policy, socket, packet, data, verdict);
  return false;
}

function refuse(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  packet: DecodedPacket,
  data: readonly unknown[],
  verdict: Verdict | undefined,
): void {
  const code = verdict && verdict.code !== "allowed" ? verdict.code : "event_not_allowed";
  const declared = declaredEventName(ctx, socket, data);
  const ack = ackOf(socket, packet);
  refuseEvent(ctx, policy, socket, ack, code, "event", declared, verdict?.details, undefined, verdict?.rule);
}

/** Refuses an event over its budget (or past the socket's backlog), telling the client how long to wait. */
function refuseRateLimited(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  packet: DecodedPacket,
  data: readonly unknown[],
  rule: Rule | undefined,
  retryAfterMs: number,
): void {
  const declared = declaredEventName(ctx, socket, data);
  const ack = ackOf(socket, packet);
  refuseEvent(ctx, policy, socket, ack, "rate_limited", "event", declared, undefined, retryAfterMs, rule);
}

/** The event's name when the policy declares it (a client-chosen name is never echoed). */
function declaredEventName(ctx: GuardContext, socket: Socket, data: readonly unknown[]): string | undefined {
  const name = data[0];
  if (typeof name !== "string") return undefined;
  return findNamespace(ctx.holder.current, socket.nsp.name)?.namespace.events.get(name)?.name;
}

function ackOf(socket: Socket, packet: DecodedPacket): ((...args: unknown[]) => void) | undefined {
  return typeof packet.id === "number" ? ackCallback(socket, packet.id) : undefined;
}
