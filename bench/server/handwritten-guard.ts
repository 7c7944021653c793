/**
 * What a careful developer writes by hand today to get the bench policy's checks without
 * sockguard: an `allowRequest` origin check, WebSocket only, namespace middleware verifying the
 * token with jose and checking the read scope, and a `socket.use` middleware that allows only the
 * declared event, checks the token's expiry and the write scope, and validates the message with an
 * ajv validator compiled once. It is the fair baseline for "never slower than hand-written".
 */
import type { IncomingMessage } from "node:http";
import { Ajv2020 } from "ajv/dist/2020.js";
import { importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from "jose";
import type { Server, ServerOptions, Socket } from "socket.io";
import type { JsonObject } from "../../src/policy/types.js";
import type { VerificationKey } from "../fixtures/issuer-keys.js";
import {
  BENCH_AUDIENCE,
  BENCH_EVENT,
  BENCH_ISSUER,
  BENCH_NAMESPACE,
  BENCH_ORIGIN,
  MESSAGE_SCHEMA,
  READ_SCOPE,
  WRITE_SCOPE,
} from "../fixtures/scenario.js";

export interface HandwrittenConfig {
  readonly origin: string;
  readonly issuer: string;
  readonly audience: string;
  readonly key: VerificationKey;
  readonly namespace: string;
  readonly event: string;
  readonly schema: JsonObject;
  readonly readScope: string;
  readonly writeScope: string;
}

/** The bench policy's checks, for the hand-written guard, trusting `key`. */
export function benchHandwrittenConfig(key: VerificationKey): HandwrittenConfig {
  return {
    origin: BENCH_ORIGIN,
    issuer: BENCH_ISSUER,
    audience: BENCH_AUDIENCE,
    key,
    namespace: BENCH_NAMESPACE,
    event: BENCH_EVENT,
    schema: MESSAGE_SCHEMA,
    readScope: READ_SCOPE,
    writeScope: WRITE_SCOPE,
  };
}

/** Server options: the origin check at the handshake, and WebSocket only. */
export function handwrittenServerOptions(config: HandwrittenConfig): Partial<ServerOptions> {
  return {
    transports: ["websocket"],
    allowRequest: (
      request: IncomingMessage,
      callback: (err: string | null | undefined, ok: boolean) => void,
    ) => callback(null, request.headers.origin === config.origin),
  };
}

/**
 * Installs the token and event checks on `io.of(config.namespace)`; call it before the app's
 * handlers.
 *
 * @example
 * const io = new Server(httpServer, handwrittenServerOptions(config));
 * await installHandwrittenGuard(io, config);
 */
export async function installHandwrittenGuard(io: Server, config: HandwrittenConfig): Promise<void> {
  const key: CryptoKey | Uint8Array =
    config.key.alg === "HS256"
      ? new TextEncoder().encode(config.key.secret)
      : await importSPKI(config.key.publicKeyPem, config.key.alg);
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  const validateMessage = ajv.compile(config.schema);
  const claimsOf = new WeakMap<Socket, JWTPayload>();
  const namespace = io.of(config.namespace);

  namespace.use((socket, next) => {
    const token: unknown = (socket.handshake.auth as { token?: unknown }).token;
    if (typeof token !== "string") return next(new Error("unauthorized"));
    jwtVerify(token, key, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: [config.key.alg],
      requiredClaims: ["exp"],
    }).then(
      ({ payload }) => {
        if (!hasScope(payload, config.readScope)) return next(new Error("forbidden"));
        claimsOf.set(socket, payload);
        next();
      },
      () => next(new Error("unauthorized")),
    );
  });

  namespace.on("connection", (socket) => {
    socket.use(([event, ...args], next) => {
      const claims = claimsOf.get(socket);
      if (event !== config.event || !claims) return next(new Error("event not allowed"));
      if (typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now())
        return next(new Error("expired"));
      if (!hasScope(claims, config.writeScope)) return next(new Error("forbidden"));
      // The last argument is the ack callback when the client asked for one.
      const values = typeof args[args.length - 1] === "function" ? args.slice(0, -1) : args;
      if (values.length !== 1 || !validateMessage(values[0])) return next(new Error("invalid payload"));
      next();
    });
  });
}

function hasScope(claims: JWTPayload, scope: string): boolean {
  return typeof claims.scope === "string" && claims.scope.split(" ").includes(scope);
}
