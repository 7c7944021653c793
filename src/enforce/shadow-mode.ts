/**
 * `mode: shadow` in the policy in force (DESIGN §1.1): where it applies, a denial is reported with
 * `shadow: true` and the request, connect or event goes on as if allowed; it is not counted toward
 * `maxDenials`. The hooks in handshake.ts, namespaces.ts and events.ts call these only when
 * `policy.modes` is present, so a policy without `mode: shadow` never reaches this file. Which
 * denial falls under which mode is decide/'s ({@link connectShadowed} and the others).
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "socket.io";
import type { CompiledPolicy, Identity } from "../compile/types.js";
import { connectShadowed, eventShadowed, handshakeShadowed, liveSocketShadowed } from "../decide/mode.js";
import type { Verdict } from "../decide/verdict.js";
import type { Decision, DenialCode, PayloadErrorDetail, Rule } from "../decisions.js";
import type { GuardContext } from "./context.js";
import { declaredEventName, socketDecision, type SocketDecisionParts } from "./decision-report.js";
import { requestDecision } from "./handshake.js";

/**
 * True when the handshake (or upgrade) denial `code` is only reported under the top-level
 * `mode: shadow`: reported here, and the caller lets the request through.
 *
 * @example
 * if (code !== "allowed" && !(policy.modes !== undefined && passRequestInShadow(ctx, policy, req, stage, code, rule))) refuse();
 */
export function passRequestInShadow(
  ctx: GuardContext,
  policy: CompiledPolicy,
  req: IncomingMessage,
  stage: "handshake" | "upgrade",
  code: DenialCode,
  rule: Rule | undefined,
  retryAfterMs?: number,
): boolean {
  if (!handshakeShadowed(policy, code)) return false;
  if (ctx.decisions.wantsDenials())
    ctx.decisions.report({ ...requestDecision(policy, req, code, stage, rule, retryAfterMs), shadow: true });
  return true;
}

/**
 * True when the connect denial `code` of `socket` is only reported under its namespace's
 * `mode: shadow`: reported here (with the subject of `identity`, the token's if it verified), and
 * the caller admits the socket with that identity.
 *
 * @example
 * if (policy.modes !== undefined && admitConnectInShadow(ctx, policy, socket, code, rule)) return admit();
 */
export function admitConnectInShadow(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  code: DenialCode,
  rule: Rule | undefined,
  details?: readonly PayloadErrorDetail[],
  retryAfterMs?: number,
  identity?: Identity,
): boolean {
  if (!connectShadowed(policy, socket.nsp.name, code)) return false;
  return reportShadow(ctx, socket, code, "connect", {
    rule,
    details,
    retryAfterMs,
    identity,
  });
}

/**
 * True when the event denial `verdict` is only reported under the event's (or its namespace's, or
 * the top-level) `mode: shadow`: reported here, and the caller hands the event to the app.
 *
 * @example
 * if (policy.modes !== undefined && passEventInShadow(ctx, policy, socket, data, verdict)) return true;
 */
export function passEventInShadow(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  data: readonly unknown[],
  verdict: Verdict,
  retryAfterMs?: number,
): boolean {
  const code = verdict.code;
  if (code === "allowed" || !eventShadowed(policy, socket.nsp.name, data[0], code)) return false;
  if (!ctx.decisions.wantsDenials()) return true;
  const event = declaredEventName(policy, socket.nsp.name, data[0]);
  return reportShadow(ctx, socket, code, "event", {
    event,
    details: verdict.details,
    retryAfterMs,
    rule: verdict.rule,
  });
}

/**
 * True when a live socket that `verdict` (a recheck after a reload, or its token's expiry) would
 * disconnect stays, under its namespace's `mode: shadow` (the top-level one for origin, transport
 * and TLS): reported here with `code` (`policy_changed`, `token_expired`), and the socket is kept.
 *
 * @example
 * if (policy.modes !== undefined && keepLiveSocketInShadow(ctx, policy, socket, verdict, "policy_changed", "recheck")) return undefined;
 */
export function keepLiveSocketInShadow(
  ctx: GuardContext,
  policy: CompiledPolicy,
  socket: Socket,
  verdict: Verdict,
  code: DenialCode,
  stage: "recheck" | "expiry",
): boolean {
  if (!liveSocketShadowed(policy, socket.nsp.name, verdict)) return false;
  return reportShadow(ctx, socket, code, stage, { rule: verdict.rule });
}

/** Reports a denial of `socket` as not enforced (when somebody listens); true, for the caller to go on. */
function reportShadow(
  ctx: GuardContext,
  socket: Socket,
  code: DenialCode,
  stage: Decision["stage"],
  parts: SocketDecisionParts,
): true {
  if (ctx.decisions.wantsDenials())
    ctx.decisions.report(socketDecision(ctx, socket, code, stage, { ...parts, shadow: true }));
  return true;
}
