/**
 * Namespace connects. The guard's middleware runs first in every namespace: those that exist when
 * the guard starts and those created later (`io.of(name)`, and the children `io.of(regex | fn)`
 * creates on a connect, which copy their parent's middleware before `new_namespace` fires). A
 * namespace the policy does not list admits nobody; a refused connect to a dynamic child that has
 * no other socket removes the child, so refused clients cannot pile up namespaces.
 */
import type { Namespace, Socket } from "socket.io";
import { SockguardDenial, type DenialCode, type PayloadErrorDetail, type Rule } from "../decisions.js";
import type { CompiledNamespace, CompiledPolicy, Identity } from "../compile/types.js";
import { socketClientAddress } from "./client-address.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import { authenticateNow, type ConnectOutcome } from "./authenticate.js";
import { connectHandshakeFacts } from "./connect-origin.js";
import { originAllowed } from "../decide/handshake.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import { guardSocketEvents } from "./events.js";
import { guardSocketEmits } from "./emits.js";
import { isConnectionClosing } from "./feedback.js";
import { countDenial } from "./refuse-event.js";
import { admitConnectInShadow } from "./shadow-mode.js";
import { stampDecodedPackets } from "./packet-size.js";
import { createSocketState, publishIdentity } from "./socket-state.js";
import { expiryCanceller, watchTokenExpiry } from "./token-lifetime.js";
import {
  concreteNamespaces,
  connectingCount,
  namespaceMiddleware,
  removeChildNamespace,
} from "./socket-io-internals.js";

type NamespaceMiddleware = (socket: Socket, next: (err?: Error) => void) => void;

/**
 * Guards every namespace of `ctx.io`, now and later.
 *
 * @example
 * guardNamespaces(ctx);
 * io.of("/chat").use(appMiddleware); // runs after the guard's
 */
export function guardNamespaces(ctx: GuardContext): void {
  const middleware: NamespaceMiddleware = (socket, next) => {
    // Before the token check, which may take a while: packets arriving meanwhile are measured too.
    stampDecodedPackets(socket);
    // A connection being closed for too many denials gets no more tokens verified.
    if (isConnectionClosing(socket.client)) return next(new SockguardDenial("too_many_denials"));
    if (ctx.shadow !== undefined) ctx.shadow.judgeConnect(socket);
    judgeConnect(ctx, socket, next);
  };
  for (const namespace of concreteNamespaces(ctx.io)) putFirst(namespace, middleware);
  ctx.io.sockets.prependListener("new_namespace", (namespace: Namespace) => putFirst(namespace, middleware));
}

function putFirst(namespace: Namespace, middleware: NamespaceMiddleware): void {
  const fns = namespaceMiddleware(namespace);
  const at = fns.indexOf(middleware);
  if (at === 0) return;
  if (at > 0) fns.splice(at, 1);
  fns.unshift(middleware);
}

function judgeConnect(ctx: GuardContext, socket: Socket, next: (err?: Error) => void): void {
  const policy = ctx.holder.current;
  const namespace = findNamespace(policy, socket.nsp.name)?.namespace;
  if (!namespace) return refuseConnect(ctx, policy, socket, next, "namespace_not_allowed");
  // Read once: judged here, and again by decide/ with the token (the same facts, the same policy).
  const handshake = connectHandshakeFacts(policy.connection, socket);
  if (!originAllowed(policy, handshake, namespace))
    return refuseConnect(ctx, policy, socket, next, "origin_not_allowed");
  const revocations = ctx.revocations.generation;
  let outcome: ConnectOutcome | Promise<ConnectOutcome>;
  try {
    outcome = authenticateNow(socket.handshake, policy, socket.nsp.name, ctx.revocations, handshake);
  } catch {
    return refuseConnect(ctx, policy, socket, next, "token_invalid");
  }
  // A token the cache holds, judged against the in-process revocations, is decided at once: no
  // promise, and the connect completes in this turn as a plain server's does.
  if (!(outcome instanceof Promise))
    return settleConnect(ctx, socket, next, policy, namespace, outcome, revocations);
  outcome.then(
    (settled) => settleConnect(ctx, socket, next, policy, namespace, settled, revocations),
    () => refuseConnect(ctx, policy, socket, next, "token_invalid"),
  );
}

function settleConnect(
  ctx: GuardContext,
  socket: Socket,
  next: (err?: Error) => void,
  policy: CompiledPolicy,
  namespace: CompiledNamespace,
  { verdict, identity }: ConnectOutcome,
  revocations: number,
): void {
  // A reload or a revoke while the token was being verified: judge again, wholly under the new
  // policy and revocations (neither reached this socket, which is not connected yet).
  if (ctx.holder.current !== policy || ctx.revocations.generation !== revocations)
    return judgeConnect(ctx, socket, next);
  if (verdict.code !== "allowed")
    return refuseConnect(
      ctx,
      policy,
      socket,
      next,
      verdict.code,
      verdict.rule,
      verdict.details,
      undefined,
      identity,
    );
  if (namespace.rateLimit === undefined && namespace.maxConnections === undefined) {
    admit(ctx, socket, policy, identity);
    return next();
  }
  // The budgets come right after the claims (DESIGN §3): a connect refused for its token or
  // claims spends none of them.
  spendConnectBudgets(ctx, socket, next, policy, namespace, identity, revocations);
}

function spendConnectBudgets(
  ctx: GuardContext,
  socket: Socket,
  next: (err?: Error) => void,
  policy: CompiledPolicy,
  namespace: CompiledNamespace,
  identity: Identity | undefined,
  revocations: number,
): void {
  const address = socketClientAddress(policy.connection, socket);
  ctx.budgets.admitConnect(namespace, socket, identity, address).then(
    (refusal) => {
      if (refusal)
        return refuseConnect(
          ctx,
          policy,
          socket,
          next,
          refusal.code,
          refusal.rule,
          undefined,
          refusal.retryAfterMs,
          identity,
        );
      // A reload or a revoke while the stores answered: judged again (the place this socket took is
      // its own, so taking it again takes no other).
      if (ctx.holder.current !== policy || ctx.revocations.generation !== revocations)
        return judgeConnect(ctx, socket, next);
      admit(ctx, socket, policy, identity);
      next();
    },
    // A store never rejects (it counts in memory while its backend is down); if one did, refused.
    () =>
      refuseConnect(ctx, policy, socket, next, "rate_limited", undefined, undefined, STORE_FAILURE_RETRY_MS),
  );
}

/** The wait a client is told when a budget could not be checked at all. */
const STORE_FAILURE_RETRY_MS = 1000;

function admit(
  ctx: GuardContext,
  socket: Socket,
  policy: CompiledPolicy,
  identity: Identity | undefined,
): void {
  const state = createSocketState(identity);
  state.admittedTo = findNamespace(policy, socket.nsp.name)?.namespace.name;
  ctx.states.set(socket, state);
  publishIdentity(socket, identity);
  guardSocketEvents(ctx, socket);
  guardSocketEmits(ctx, socket);
  watchTokenExpiry(ctx, socket, state, policy.auth);
  // One listener shared by every socket (Socket.IO emits `disconnect` once). A connect that never
  // completes (the client left meanwhile) emits no disconnect: its deadline finds the socket
  // disconnected when it comes.
  socket.on("disconnect", expiryCanceller(ctx));
  if (ctx.decisions.wantsAllows()) ctx.decisions.report(socketDecision(ctx, socket, "allowed", "connect"));
}

function refuseConnect(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  next: (err?: Error) => void,
  code: DenialCode,
  rule?: Rule,
  details?: readonly PayloadErrorDetail[],
  retryAfterMs?: number,
  identity?: Identity,
): void {
  if (
    policy.modes !== undefined &&
    admitConnectInShadow(ctx, policy, socket, code, rule, details, retryAfterMs, identity)
  ) {
    admit(ctx, socket, policy, identity);
    return next();
  }
  if (ctx.decisions.wantsDenials())
    ctx.decisions.report(
      socketDecision(ctx, socket, code, "connect", { rule, details, retryAfterMs, identity }),
    );
  const namespace = socket.nsp;
  // This socket is the only one connecting and none is connected: the child exists only for it.
  if (namespace.sockets.size === 0 && connectingCount(namespace) <= 1)
    removeChildNamespace(ctx.io, namespace);
  next(new SockguardDenial(code, details, retryAfterMs));
  // A refused connect counts against the connection's budget: trying tokens has an end.
  countDenial(ctx, policy, socket, "connect");
}
