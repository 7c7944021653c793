/**
 * A real Socket.IO server on 127.0.0.1 whose only middleware is `authenticate`, and a way to connect
 * real socket.io-client clients to it and see how the connect ended. Tests swap `namespace` and
 * `auth` between connects; nothing else about the server changes.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { io as connectClient, type ManagerOptions, type SocketOptions } from "socket.io-client";
import { WebSocket } from "ws";
import { SockguardDenial, type DenialCode } from "../../../src/decisions.js";
import { authenticate } from "../../../src/enforce/authenticate.js";
import { MemoryRevocationStore } from "../../../src/cluster/memory-revocation-store.js";
import type { CompiledAuth, CompiledNamespace, Identity } from "../../../src/compile/types.js";
import type { ClaimsRequirement } from "../../../src/policy/types.js";
import { handBuiltNamespace, policyWith } from "../../helpers/stage-policy.js";

export type ConnectResult =
  | { readonly connected: true; readonly identity?: Identity }
  | { readonly connected: false; readonly code: DenialCode };

export interface AuthHarness {
  namespace: CompiledNamespace;
  auth: CompiledAuth;
  /** Connects a client to `/`, waits for connect or connect_error, disconnects it, and reports. */
  connect(options?: Partial<ManagerOptions & SocketOptions>): Promise<ConnectResult>;
  /**
   * Connects over a raw WebSocket with exactly `query` (for what socket.io-client cannot send, such as
   * a parameter twice), speaking the Engine.IO/Socket.IO protocol by hand. Reports the namespace connect.
   */
  connectRaw(
    query: string,
  ): Promise<{ readonly connected: true } | { readonly connected: false; readonly code: string }>;
  close(): Promise<void>;
}

export async function startAuthHarness(
  namespace: CompiledNamespace,
  auth: CompiledAuth,
): Promise<AuthHarness> {
  const httpServer: HttpServer = createServer();
  const io = new Server(httpServer);
  const identities = new Map<string, Identity | undefined>();
  // Nothing is revoked here: these tests are about tokens (revocation has its own, through the guard).
  const revocations = new MemoryRevocationStore();
  const harness: AuthHarness = {
    namespace,
    auth,
    connect: (options) => connectOnce(url, identities, options),
    connectRaw: (query) => connectRawOnce(url, query),
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
  io.use((socket, next) => {
    const policy = policyWith(harness.namespace, harness.auth);
    authenticate(socket.handshake, policy, harness.namespace.name, revocations).then(
      (outcome) => {
        if (outcome.verdict.code !== "allowed") return next(new SockguardDenial(outcome.verdict.code));
        identities.set(socket.id, outcome.identity);
        next();
      },
      (error: unknown) => next(error instanceof Error ? error : new Error(String(error))),
    );
  });
  io.on("connection", (socket) => {
    socket.emit("welcome", socket.id);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  return harness;
}

function connectRawOnce(
  url: string,
  query: string,
): Promise<{ readonly connected: true } | { readonly connected: false; readonly code: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket&${query}`,
    );
    socket.on("error", reject);
    socket.on("message", (data: Buffer) => {
      const packet = data.toString("utf8");
      if (packet.startsWith("0")) return socket.send("40"); // Engine.IO open: connect to the main namespace
      if (packet.startsWith("40")) {
        socket.close();
        return resolve({ connected: true });
      }
      if (packet.startsWith("44")) {
        socket.close();
        const body = JSON.parse(packet.slice(2)) as { data?: { code?: string } };
        return body.data?.code
          ? resolve({ connected: false, code: body.data.code })
          : reject(new Error(packet));
      }
    });
  });
}

function connectOnce(
  url: string,
  identities: Map<string, Identity | undefined>,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const client = connectClient(url, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      ...options,
    });
    const finish = (result: ConnectResult | Error): void => {
      client.disconnect();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    client.on("welcome", (id: string) => {
      const identity = identities.get(id);
      identities.delete(id);
      finish(identity ? { connected: true, identity } : { connected: true });
    });
    client.on("connect_error", (error: Error & { data?: { code?: DenialCode } }) => {
      const code = error.data?.code;
      finish(
        code ? { connected: false, code } : new Error(`connect failed without a code: ${error.message}`),
      );
    });
  });
}

/** A compiled namespace, built directly (it is plain data). */
export function compiledNamespace(
  auth: CompiledNamespace["auth"],
  issuers: readonly string[],
  require?: ClaimsRequirement,
): CompiledNamespace {
  return handBuiltNamespace("/", auth, issuers, require);
}
