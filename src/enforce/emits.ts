/**
 * What the server sends, against the policy's `emits` and `reply` declarations (DESIGN §1.1): an
 * emit or ack reply that breaks its declaration (or an undeclared emit, where the namespace has
 * `emits`) is an `emit_invalid` decision and one log line; under `emits: "refuse"` it is also not
 * delivered. Socket.IO has no outgoing middleware that can cancel a packet (`onAnyOutgoing` only
 * observes), so the guard takes the two paths every emit of this node goes through: a socket's
 * packet writer (`socket.emit`, with its `volatile`, `timeout()` and ack variants) and each
 * namespace adapter's local delivery (`socket.to(...)`, `socket.broadcast`, `namespace.emit`,
 * `io.to(...)`, `io.of(...)`, and `socket.emit` under connection state recovery). A broadcast is
 * judged once, before the adapter fans it out, whatever the number of recipients.
 */
import type { Namespace, Socket } from "socket.io";
import type { CompiledEvent, CompiledNamespace, CompiledPolicy } from "../compile/types.js";
import { ALLOWED, decideEmit, decideReply, type Verdict } from "../decide/index.js";
import type { Decision } from "../decisions.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { GuardContext } from "./context.js";
import { socketDecision } from "./decision-report.js";
import {
  adapterBroadcasts,
  concreteNamespaces,
  EVENT_PACKET_TYPE,
  onAdapterRebuilt,
  originalAckFactory,
  originalPacketWriter,
  replaceAckFactory,
  replacePacketWriter,
  type DecodedPacket,
} from "./socket-io-internals.js";

/** What an emit that breaks its declaration gets: delivered and reported, dropped and reported, or not checked. */
export type EmitMode = "warn" | "refuse" | "off";

export const EMIT_MODES: readonly EmitMode[] = ["warn", "refuse", "off"];

/**
 * Judges every broadcast of every namespace of `ctx.io`, now and later (also after the app swaps
 * the adapter with `io.adapter(...)`). Nothing is installed under `emits: "off"`.
 *
 * @example
 * guardNamespaceEmits(ctx);
 */
export function guardNamespaceEmits(ctx: GuardContext): void {
  if (ctx.emits === "off") return;
  const guarded = new WeakSet<Namespace>();
  const guard = (namespace: Namespace): void => {
    if (guarded.has(namespace)) return;
    guarded.add(namespace);
    guardAdapter(ctx, namespace);
    onAdapterRebuilt(namespace, () => guardAdapter(ctx, namespace));
  };
  for (const namespace of concreteNamespaces(ctx.io)) guard(namespace);
  ctx.io.sockets.prependListener("new_namespace", guard);
}

function guardAdapter(ctx: GuardContext, namespace: Namespace): void {
  const adapter = adapterBroadcasts(namespace);
  const broadcast = adapter.broadcast;
  const broadcastWithAck = adapter.broadcastWithAck;
  adapter.broadcast = function (packet, options) {
    if (admitEmit(ctx, namespace.name, packet, undefined)) broadcast.call(this, packet, options);
  };
  adapter.broadcastWithAck = function (packet, options, clientCountCallback, ack) {
    if (admitEmit(ctx, namespace.name, packet, undefined)) {
      broadcastWithAck.call(this, packet, options, clientCountCallback, ack);
    } else {
      // Reached no client on this node: the emitter's ack completes (or times out) without them.
      clientCountCallback(0);
    }
  };
}

/**
 * Judges what `socket.emit` sends to this socket, and the replies its handlers pass to ack
 * callbacks. Call it once, when the socket is admitted. Nothing is installed under `emits: "off"`.
 *
 * @example
 * guardSocketEmits(ctx, socket);
 */
export function guardSocketEmits(ctx: GuardContext, socket: Socket): void {
  if (ctx.emits === "off") return;
  const write = originalPacketWriter(socket);
  replacePacketWriter(socket, (packet, options) => {
    if (packet.type !== EVENT_PACKET_TYPE || admitEmit(ctx, socket.nsp.name, packet, socket)) {
      write.call(socket, packet, options);
    }
  });
}

/**
 * Wraps `dispatch` (Socket.IO's `onevent`) so that the ack callback a handler receives for an
 * event with a `reply` checks what the handler passes to it. Returns `dispatch` itself under
 * `emits: "off"`.
 *
 * @example
 * const dispatch = replyCheckedDispatch(ctx, socket, originalOnevent(socket));
 */
export function replyCheckedDispatch(
  ctx: GuardContext,
  socket: Socket,
  dispatch: (packet: DecodedPacket) => void,
): (packet: DecodedPacket) => void {
  if (ctx.emits === "off") return dispatch;
  let replying: CompiledEvent | undefined;
  const ack = originalAckFactory(socket);
  // `onevent` asks for the ack callback synchronously, before any handler runs.
  replaceAckFactory(socket, (id) => {
    const callback = ack.call(socket, id);
    const event = replying;
    replying = undefined;
    if (!event) return callback;
    return (...args: unknown[]) => {
      if (admitReply(ctx, socket, event, args)) callback(...args);
    };
  });
  // The namespace's events under the policy last seen, when one of them has a `reply`.
  let seen: CompiledPolicy | undefined;
  let replies: ReadonlyMap<string, CompiledEvent> | undefined;
  return (packet) => {
    // Without an ack id, `onevent` asks for no ack callback: there is no reply to check.
    if (typeof packet.id !== "number") return dispatch.call(socket, packet);
    const policy = ctx.holder.current;
    if (seen !== policy) {
      seen = policy;
      // A child of a pattern namespace replies as the pattern declares.
      const namespace = findNamespace(policy, socket.nsp.name)?.namespace;
      replies = namespace && declaresReplies(namespace) ? namespace.events : undefined;
    }
    const name = replies && Array.isArray(packet.data) ? packet.data[0] : undefined;
    const event = typeof name === "string" ? replies!.get(name) : undefined;
    replying = event?.reply ? event : undefined;
    try {
      dispatch.call(socket, packet);
    } finally {
      replying = undefined;
    }
  };
}

const replyingNamespaces = new WeakMap<CompiledNamespace, boolean>();

/** True when an event of `namespace` declares a `reply`; found once per compiled namespace. */
function declaresReplies(namespace: CompiledNamespace): boolean {
  let found = replyingNamespaces.get(namespace);
  if (found === undefined) {
    found = false;
    for (const event of namespace.events.values()) if (event.reply) found = true;
    replyingNamespaces.set(namespace, found);
  }
  return found;
}

/** True when the emit goes on (it is valid, or breaks its declaration under `warn`). */
function admitEmit(
  ctx: GuardContext,
  namespaceName: string,
  packet: DecodedPacket,
  socket: Socket | undefined,
): boolean {
  const data = packet.data;
  if (!Array.isArray(data)) return true;
  const policy = ctx.holder.current;
  const verdict = decideEmit(policy, namespaceName, data);
  if (verdict === ALLOWED) return true;
  const name = data[0];
  const namespace = findNamespace(policy, namespaceName)?.namespace;
  const declared = typeof name === "string" ? namespace?.emits?.declared.get(name)?.name : undefined;
  // Reported under the policy's key: a pattern namespace's child name is partly the client's.
  reportInvalid(ctx, "emit", namespace?.name ?? namespaceName, declared, verdict, socket);
  return ctx.emits !== "refuse";
}

function admitReply(ctx: GuardContext, socket: Socket, event: CompiledEvent, args: unknown[]): boolean {
  const verdict = decideReply(event, args);
  if (verdict === ALLOWED) return true;
  const namespace = findNamespace(ctx.holder.current, socket.nsp.name)?.namespace.name;
  reportInvalid(ctx, "reply", namespace ?? socket.nsp.name, event.name, verdict, socket);
  return ctx.emits !== "refuse";
}

/** One log line and one decision; neither holds a value of the emit, nor an undeclared name. */
function reportInvalid(
  ctx: GuardContext,
  stage: "emit" | "reply",
  namespace: string,
  event: string | undefined,
  verdict: Verdict,
  socket: Socket | undefined,
): void {
  const rule = verdict.rule;
  const where = rule ? ` (${rule.file}:${rule.line}:${rule.col})` : "";
  const failure = verdict.details?.[0];
  const at = failure ? `, ${failure.keyword} at ${failure.instancePath || "/"}` : "";
  const what =
    stage === "reply"
      ? `the ack reply of ${event ?? "an event"}`
      : event === undefined
        ? "an undeclared emit"
        : `emit ${event}`;
  const outcome = ctx.emits === "refuse" ? "not delivered" : "delivered";
  ctx.logger.warn(
    `sockguard: emit_invalid in ${namespace}: ${what} breaks its declaration${where}${at}; ${outcome}`,
  );
  if (!ctx.decisions.wantsDenials()) return;
  const parts = { event, details: verdict.details, rule };
  ctx.decisions.report(
    socket
      ? socketDecision(ctx, socket, "emit_invalid", stage, parts)
      : namespaceDecision(ctx, stage, namespace, parts),
  );
}

function namespaceDecision(
  ctx: GuardContext,
  stage: "emit" | "reply",
  namespace: string,
  parts: Pick<Decision, "event" | "details" | "rule">,
): Decision {
  return {
    allowed: false,
    code: "emit_invalid",
    stage,
    namespace,
    ...(parts.event === undefined ? {} : { event: parts.event }),
    ...(parts.details && parts.details.length > 0 ? { details: parts.details } : {}),
    ...(parts.rule === undefined ? {} : { rule: parts.rule }),
    policyVersion: ctx.holder.current.version,
  };
}
