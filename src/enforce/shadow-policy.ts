/**
 * The candidate policy of `sockguard(io, { shadow })` (DESIGN §1.1, Envoy's shadow rules): judged
 * beside the policy in force on the same traffic (each handshake and upgrade request, each connect,
 * each event) through the same decide/ functions, and its would-be denials reported as decisions
 * with `shadow: true` and the candidate's own `policyVersion`. Nothing it decides is ever applied.
 *
 * It shares no state that the policy in force decides with: it keeps its own per-socket identity
 * (the one the candidate verified at the connect), its own compiled issuers and remote key sets,
 * and spends no budget (rate limits and connection quotas of a candidate are not counted) and no
 * `maxDenials`. Everything it does is wrapped so that a failure of its own is logged once and never
 * reaches the enforcing path. It judges an event before the guard does, so the app has not touched
 * the arguments yet.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "socket.io";
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledPolicy, Identity } from "../compile/types.js";
import { ALLOWED, decideEvent, decideHandshake, type EventFacts, type Verdict } from "../decide/index.js";
import { blankEventFacts, type MutableEventFacts } from "../decide/event.js";
import type { DenialCode } from "../decisions.js";
import { REAUTH_EVENT } from "../policy/reserved-events.js";
import { authenticate } from "./authenticate.js";
import { connectHandshakeFacts, connectOriginAllowed } from "./connect-origin.js";
import type { GuardContext, PolicyHolder } from "./context.js";
import { declaredEventName, socketDecision } from "./decision-report.js";
import { handshakeFacts, requestDecision } from "./handshake.js";
import { readEventFacts } from "./packet-size.js";
import type { DecodedPacket } from "./socket-io-internals.js";

/** Events a socket may send before the candidate has judged its connect; later ones are not judged. */
export const MAX_EVENTS_BEFORE_CANDIDATE_CONNECT = 64;

const NO_DATA: readonly unknown[] = Object.freeze([]);

/** What the candidate made of one socket's connect. */
interface CandidateSocket {
  /** False until the candidate's connect judgement (which may verify a token) is done. */
  settled: boolean;
  /** True when the candidate would have admitted the connect: only then are its events judged. */
  admitted: boolean;
  /** The identity the candidate verified; undefined for an anonymous socket. */
  identity: Identity | undefined;
  /** Events that arrived before the connect was settled, as they were when they arrived. */
  waiting: EventFacts[];
  /** The facts object rewritten for each event once settled (nothing allocated per event). */
  readonly facts: MutableEventFacts;
}

/**
 * Judges the candidate policy held in `holder` beside the policy in force.
 *
 * @example
 * const judge = new ShadowPolicyJudge({ current: candidate }, () => ctx);
 * judge.judgeEvent(socket, packet); // reports a would-be denial; never refuses
 */
export class ShadowPolicyJudge {
  /** The candidate policy; a reload of the candidate replaces `current`. */
  readonly holder: PolicyHolder;
  readonly #context: () => GuardContext;
  readonly #sockets = new WeakMap<Socket, CandidateSocket>();
  #failureLogged = false;

  constructor(holder: PolicyHolder, context: () => GuardContext) {
    this.holder = holder;
    this.#context = context;
  }

  /** The candidate's verdict on a handshake or upgrade request the guard is about to judge. */
  judgeRequest(
    req: IncomingMessage,
    transport: string | undefined,
    firstRequest: boolean,
    upgrade: boolean,
  ): void {
    const ctx = this.#context();
    if (!ctx.decisions.wantsDenials()) return;
    try {
      const policy = this.holder.current;
      const facts = handshakeFacts(policy.connection, req, transport, firstRequest && !upgrade);
      const verdict = decideHandshake(policy, facts);
      if (verdict.code === "allowed") return;
      const stage = firstRequest ? "handshake" : "upgrade";
      ctx.decisions.report(
        { ...requestDecision(policy, req, verdict.code, stage, verdict.rule), shadow: true },
        policy,
      );
    } catch (error) {
      this.#failed(ctx, error);
    }
  }

  /** Starts the candidate's judgement of a connect (its token check runs beside the guard's). */
  judgeConnect(socket: Socket): void {
    const ctx = this.#context();
    const candidate: CandidateSocket = {
      settled: false,
      admitted: false,
      identity: undefined,
      waiting: [],
      facts: blankEventFacts(socket.nsp.name),
    };
    this.#sockets.set(socket, candidate);
    try {
      const policy = this.holder.current;
      const namespace = findNamespace(policy, socket.nsp.name)?.namespace;
      if (!namespace) return this.#settleConnect(ctx, socket, candidate, policy, "namespace_not_allowed");
      if (!connectOriginAllowed(policy, namespace, socket))
        return this.#settleConnect(ctx, socket, candidate, policy, "origin_not_allowed");
      const handshake = connectHandshakeFacts(policy.connection, socket);
      authenticate(socket.handshake, policy, socket.nsp.name, ctx.revocations, handshake).then(
        ({ verdict, identity }) => this.#settleConnect(ctx, socket, candidate, policy, verdict, identity),
        () => this.#settleConnect(ctx, socket, candidate, policy, "token_invalid"),
      );
    } catch (error) {
      this.#failed(ctx, error);
    }
  }

  /** The candidate's verdict on an event that has just arrived, before the guard judges it. */
  judgeEvent(socket: Socket, packet: DecodedPacket): void {
    const candidate = this.#sockets.get(socket);
    if (candidate === undefined || (candidate.settled && !candidate.admitted)) return;
    const data = Array.isArray(packet.data) ? (packet.data as unknown[]) : NO_DATA;
    // The guard consumes its own renewal event; the candidate keeps the identity of the connect.
    if (data[0] === REAUTH_EVENT) return;
    const ctx = this.#context();
    if (!ctx.decisions.wantsDenials()) return;
    try {
      const facts = candidate.facts;
      // One judged later is measured exactly: the candidate (and its maxPayload) may change meanwhile.
      const limit = candidate.settled ? this.holder.current.connection.maxPayload : 0;
      readEventFacts(facts, packet, candidate.identity, limit);
      facts.data = data;
      if (candidate.settled) this.#decideEvent(ctx, socket, facts);
      // Judged once the connect is: on a copy of the facts and of the argument list as they arrived.
      else if (candidate.waiting.length < MAX_EVENTS_BEFORE_CANDIDATE_CONNECT)
        candidate.waiting.push({ ...facts, data: [...data] });
      facts.data = NO_DATA;
    } catch (error) {
      this.#failed(ctx, error);
    }
  }

  #settleConnect(
    ctx: GuardContext,
    socket: Socket,
    candidate: CandidateSocket,
    policy: CompiledPolicy,
    outcome: Verdict | DenialCode,
    identity?: Identity,
  ): void {
    try {
      const verdict: Verdict = typeof outcome === "string" ? { code: outcome } : outcome;
      candidate.settled = true;
      candidate.admitted = verdict === ALLOWED;
      candidate.identity = identity;
      if (!candidate.admitted && verdict.code !== "allowed" && ctx.decisions.wantsDenials()) {
        const parts = {
          rule: verdict.rule,
          details: verdict.details,
          shadow: true,
          identity,
        };
        ctx.decisions.report(socketDecision(ctx, socket, verdict.code, "connect", parts, policy), policy);
      }
      const waiting = candidate.waiting;
      candidate.waiting = [];
      if (candidate.admitted) for (const facts of waiting) this.#decideEvent(ctx, socket, facts);
    } catch (error) {
      this.#failed(ctx, error);
    }
  }

  #decideEvent(ctx: GuardContext, socket: Socket, facts: EventFacts): void {
    const policy = this.holder.current;
    const verdict = decideEvent(policy, facts);
    if (verdict === ALLOWED || verdict.code === "allowed") return;
    const parts = {
      event: declaredEventName(policy, facts.namespace, facts.data[0]),
      details: verdict.details,
      rule: verdict.rule,
      shadow: true,
      identity: facts.identity,
    };
    ctx.decisions.report(socketDecision(ctx, socket, verdict.code, "event", parts, policy), policy);
  }

  /**
   * A failure of the candidate's own judgement: logged once, never passed to the enforcing path.
   * Only the error's kind is logged: its message may quote the request it was judging.
   */
  #failed(ctx: GuardContext, error: unknown): void {
    if (this.#failureLogged) return;
    this.#failureLogged = true;
    const kind = error instanceof Error ? error.name : typeof error;
    ctx.logger.error(`sockguard: the shadow policy could not judge a request (${kind})`);
  }
}
