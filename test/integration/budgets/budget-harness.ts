/**
 * What the budget tests share: one HS256 issuer and its tokens, clients that connect as a subject
 * (or anonymously) over one transport, the shape of a `rate_limited` answer, and waiting for the
 * server side of a connection to close.
 */
import assert from "node:assert/strict";
import type { Server } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import type { IssuerPolicy } from "../../../src/policy/types.js";
import type { Cleanup } from "../../helpers/cleanup.js";
import { createClient, type ClientOptions } from "../../helpers/clients.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";

export const ISS = "urn:test:budgets";
const SECRET = createSecret();

/** The policy's issuer entry whose tokens {@link tokenFor} signs. */
export const ISSUER: IssuerPolicy = hs256Issuer(ISS, SECRET);

export type Transport = "polling" | "websocket";
export const TRANSPORTS: readonly Transport[] = ["polling", "websocket"];

/** A valid token for `sub` (with `claims` added). */
export function tokenFor(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return signWithSecret(SECRET, claimsFor(ISS, undefined, { sub, ...claims }));
}

/**
 * A client of `namespace` over `transport` only, with a token for `sub` (none when undefined: an
 * anonymous client); not yet connected.
 *
 * @example
 * const client = await clientAs(cleanup, url, "/chat", "u1", "websocket");
 * await connected(client);
 */
export async function clientAs(
  cleanup: Cleanup,
  url: string,
  namespace: string,
  sub: string | undefined,
  transport: Transport = "websocket",
  options: ClientOptions = {},
): Promise<ClientSocket> {
  return createClient(cleanup, url, namespace, {
    transports: [transport],
    ...(sub === undefined ? {} : { auth: { token: await tokenFor(sub) } }),
    ...options,
  });
}

/** What a refusal over a rate limit carries: its code, a message, and a wait within the limit's window. */
export function assertRateLimited(body: unknown, windowMs: number): void {
  const { code, message, retryAfterMs } = body as {
    code?: unknown;
    message?: unknown;
    retryAfterMs?: unknown;
  };
  assert.equal(code, "rate_limited", JSON.stringify(body));
  assert.equal(typeof message, "string");
  assert.ok(
    typeof retryAfterMs === "number" && retryAfterMs > 0 && retryAfterMs <= windowMs,
    `retryAfterMs within (0, ${windowMs}]: ${JSON.stringify(body)}`,
  );
}

/** The `{ error }` an ack of a refused event receives. */
export function ackError(reply: unknown): unknown {
  return (reply as { error?: unknown }).error;
}

/**
 * Counts the Engine.IO connections of `io` that have closed, server side (each `close` is counted
 * once its listeners, the guard's among them, have run).
 */
export function countClosedConnections(io: Server): { readonly closed: number } {
  const counter = { closed: 0 };
  io.engine.on("connection", (conn: { once(event: "close", listener: () => void): void }) =>
    conn.once("close", () => {
      counter.closed += 1;
    }),
  );
  return counter;
}
