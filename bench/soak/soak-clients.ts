/**
 * The soak's clients: real socket.io-client sockets, each with its own token, sending valid and
 * invalid events with acknowledgements at a steady pace, renewing their token in-band with
 * `sockguard:reauth` before it expires (a few let it lapse, and are disconnected with
 * `token_expired`), and churned: a share of them leave and are replaced on demand.
 */
import { SignJWT } from "jose";
import { setTimeout as sleep } from "node:timers/promises";
import { io as connectClient, type Socket } from "socket.io-client";
import { emptyCounters, type LoadCounters } from "./soak-report.js";
import { invalidEvent, validEvent, type Random } from "./soak-events.js";
import { SOAK_ISSUER, SOAK_NAMESPACE } from "./soak-policy.js";

export interface FleetOptions {
  readonly url: string;
  /** The HS256 secret the server's policy reads from the environment. */
  readonly secret: string;
  readonly clients: number;
  /** The mean time between two events of one client. */
  readonly intervalMs: number;
  readonly tokenSeconds: number;
  readonly random: Random;
  /** Shares of events that are invalid, of clients that let their token lapse, of polling clients. */
  readonly invalidShare?: number;
  readonly lapseShare?: number;
  readonly pollingShare?: number;
}

/** How long an event waits for its acknowledgement before it counts as unanswered. */
const ACK_TIMEOUT_MS = 10_000;
/** A lapsing client stops sending this long before its token's `exp`. */
const LAPSE_MARGIN_MS = 2_000;
const CONNECT_BATCH = 100;
const TICK_MS = 100;

interface Member {
  readonly sub: string;
  readonly socket: Socket;
  readonly renews: boolean;
  state: "connecting" | "live" | "leaving" | "closed";
  expiresAt: number;
  renewAt: number;
  renewing: boolean;
  pending: number;
  nextSendAt: number;
  lastDenial: string | undefined;
}

/**
 * The clients of one soak.
 *
 * @example
 * const fleet = new SoakFleet({ url, secret, clients: 2000, intervalMs: 5000, tokenSeconds: 45, random });
 * await fleet.fill();
 * fleet.start();
 */
export class SoakFleet {
  readonly counters: LoadCounters = emptyCounters();
  /** Refusals of valid events and renewals, unanswered events and unexpected drops, by cause. */
  readonly problems = new Map<string, number>();
  readonly #options: Required<FleetOptions>;
  readonly #secret: Uint8Array;
  readonly #members = new Set<Member>();
  #latencies: number[] = [];
  #nextId = 0;
  #sending = false;
  #closing = false;
  #tick: NodeJS.Timeout | undefined;
  readonly #joining = new Set<Promise<void>>();

  constructor(options: FleetOptions) {
    this.#options = { invalidShare: 0.2, lapseShare: 0.05, pollingShare: 0.05, ...options };
    this.#secret = new TextEncoder().encode(options.secret);
  }

  /** Clients connected now. */
  get live(): number {
    let live = 0;
    for (const member of this.#members) if (member.state === "live") live += 1;
    return live;
  }

  /** Connects clients until there are as many as asked for, a batch at a time. */
  async fill(): Promise<void> {
    while (this.#members.size < this.#options.clients) {
      const batch = Math.min(CONNECT_BATCH, this.#options.clients - this.#members.size);
      await Promise.all(Array.from({ length: batch }, () => this.#join()));
    }
  }

  /** Starts sending and renewing. */
  start(): void {
    this.#sending = true;
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
  }

  /** The round-trip times (ms) of events answered since the last call. */
  takeLatencies(): number[] {
    const taken = this.#latencies;
    this.#latencies = [];
    return taken;
  }

  /** Replaces `share` of the live clients: each stops sending, waits for its answers, leaves, and a new one joins. */
  churn(share: number): void {
    const candidates = [...this.#members].filter((member) => member.state === "live" && !member.renewing);
    const count = Math.floor(candidates.length * share);
    for (let i = 0; i < count; i++) {
      const index = i + Math.floor(this.#options.random() * (candidates.length - i));
      [candidates[i], candidates[index]] = [candidates[index]!, candidates[i]!];
      void this.#leave(candidates[i]!);
    }
  }

  /** Stops sending, and waits up to `timeoutMs` for every event still unanswered; the rest count as unanswered. */
  async drain(timeoutMs: number): Promise<void> {
    this.#sending = false;
    const deadline = Date.now() + timeoutMs;
    while (this.#pendingTotal() > 0 && Date.now() < deadline) await sleep(50);
    const left = this.#pendingTotal();
    if (left > 0) this.#count("unanswered at the end", left);
    this.counters.unanswered += left;
  }

  /** Disconnects every client. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#sending = false;
    clearInterval(this.#tick);
    await Promise.all(this.#joining);
    for (const member of this.#members) {
      member.state = "closed";
      member.socket.disconnect();
    }
    this.#members.clear();
  }

  #pendingTotal(): number {
    let pending = 0;
    for (const member of this.#members) pending += member.pending;
    return pending;
  }

  #count(problem: string, by = 1): void {
    this.problems.set(problem, (this.problems.get(problem) ?? 0) + by);
  }

  async #token(sub: string): Promise<{ token: string; expiresAt: number }> {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + this.#options.tokenSeconds;
    const token = await new SignJWT({ scope: "soak" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(SOAK_ISSUER.iss)
      .setAudience(SOAK_ISSUER.aud)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#secret);
    return { token, expiresAt: exp * 1000 };
  }

  #renewAt(expiresAt: number): number {
    const left = expiresAt - Date.now();
    return Date.now() + left * (0.5 + 0.25 * this.#options.random());
  }

  #join(): Promise<void> {
    const joining = this.#connectOne().finally(() => this.#joining.delete(joining));
    this.#joining.add(joining);
    return joining;
  }

  async #connectOne(): Promise<void> {
    if (this.#closing) return;
    const random = this.#options.random;
    const sub = `soak-${this.#nextId++}`;
    const renews = random() >= this.#options.lapseShare;
    const transports = random() < this.#options.pollingShare ? ["polling"] : ["websocket"];
    const { token, expiresAt } = await this.#token(sub);
    const socket = connectClient(`${this.#options.url}${SOAK_NAMESPACE}`, {
      forceNew: true,
      reconnection: false,
      timeout: 20_000,
      transports,
      auth: { token },
    });
    const member: Member = {
      sub,
      socket,
      renews,
      state: "connecting",
      expiresAt,
      renewAt: this.#renewAt(expiresAt),
      renewing: false,
      pending: 0,
      nextSendAt: Date.now() + random() * this.#options.intervalMs,
      lastDenial: undefined,
    };
    this.#members.add(member);
    socket.on("sockguard:denied", (denial: { code?: string }) => (member.lastDenial = denial?.code));
    await new Promise<void>((resolve) => {
      socket.once("connect", () => {
        member.state = "live";
        resolve();
      });
      socket.once("connect_error", (error: Error & { data?: { code?: string } }) => {
        this.counters.connectRefused += 1;
        this.#count(`connect refused: ${error.data?.code ?? error.message}`);
        member.state = "closed";
        this.#members.delete(member);
        socket.disconnect();
        resolve();
      });
    });
    socket.on("disconnect", (reason) => this.#onDisconnect(member, reason));
  }

  #onDisconnect(member: Member, reason: string): void {
    if (member.state !== "live") return;
    member.state = "closed";
    this.#members.delete(member);
    const lapsed = !member.renews && Date.now() >= member.expiresAt - LAPSE_MARGIN_MS;
    if (lapsed && member.lastDenial === "token_expired") {
      this.counters.expired += 1;
    } else {
      this.counters.unexpectedDisconnects += 1;
      this.#count(`disconnected: ${reason}${member.lastDenial ? ` (${member.lastDenial})` : ""}`);
    }
    if (!this.#closing) void this.#join();
  }

  async #leave(member: Member): Promise<void> {
    member.state = "leaving";
    const deadline = Date.now() + 5_000;
    while ((member.pending > 0 || member.renewing) && Date.now() < deadline) await sleep(20);
    member.state = "closed";
    member.socket.disconnect();
    this.#members.delete(member);
    this.counters.churned += 1;
    if (!this.#closing) await this.#join();
  }

  #onTick(): void {
    const now = Date.now();
    for (const member of this.#members) {
      if (member.state !== "live") continue;
      if (this.#sending && member.renews && !member.renewing && now >= member.renewAt)
        void this.#renew(member);
      const mayStillSend = member.renews || now < member.expiresAt - LAPSE_MARGIN_MS;
      while (this.#sending && mayStillSend && now >= member.nextSendAt) {
        this.#send(member);
        member.nextSendAt += this.#options.intervalMs * (0.5 + this.#options.random());
      }
    }
  }

  #send(member: Member): void {
    const random = this.#options.random;
    const event = random() < this.#options.invalidShare ? invalidEvent(random) : validEvent(random);
    member.pending += 1;
    this.counters.sent += 1;
    const started = performance.now();
    member.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit(event.name, ...event.args, (error: Error | null, reply: unknown) => {
        member.pending -= 1;
        if (error) {
          this.counters.unanswered += 1;
          this.#count(`unanswered: ${event.name}`);
          return;
        }
        this.#latencies.push(performance.now() - started);
        if (reply === "ok") {
          this.counters.acked += 1;
          if (!event.valid) {
            this.counters.invalidAdmitted += 1;
            this.#count(`invalid admitted: ${event.name} ${JSON.stringify(event.args).slice(0, 60)}`);
          }
          return;
        }
        this.counters.refused += 1;
        if (event.valid) {
          this.counters.validRefused += 1;
          this.#count(`valid ${event.name} refused: ${refusalCode(reply)}`);
        }
      });
  }

  async #renew(member: Member): Promise<void> {
    member.renewing = true;
    // Pending from the start, so that a drain or a churn waits for a renewal whose token is still being signed.
    member.pending += 1;
    const { token, expiresAt } = await this.#token(member.sub);
    if (member.state !== "live") {
      member.pending -= 1;
      member.renewing = false;
      return;
    }
    member.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit("sockguard:reauth", { token }, (error: Error | null, reply: unknown) => {
        member.pending -= 1;
        member.renewing = false;
        if (error) {
          this.counters.unanswered += 1;
          this.#count("unanswered: sockguard:reauth");
          return;
        }
        if ((reply as { ok?: unknown } | undefined)?.ok === true) {
          this.counters.renewals += 1;
          member.expiresAt = expiresAt;
          member.renewAt = this.#renewAt(expiresAt);
          return;
        }
        this.counters.validRefused += 1;
        this.#count(`renewal refused: ${refusalCode(reply)}`);
        member.renewAt = Date.now() + 5_000;
      });
  }
}

function refusalCode(reply: unknown): string {
  const code = (reply as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === "string" ? code : "unexpected reply";
}
