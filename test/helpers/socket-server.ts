/**
 * Real Socket.IO servers for tests, on loopback and an ephemeral port, over HTTP or HTTPS (with
 * the self-signed certificate in test/fixtures/tls).
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Server, type ServerOptions } from "socket.io";
import type { Cleanup } from "./cleanup.js";

const TLS_DIR = new URL("../fixtures/tls/", import.meta.url);

/** The test certificate and key (for `localhost`, `127.0.0.1`, `::1`). */
export const TEST_TLS = {
  cert: readFileSync(new URL("localhost-cert.pem", TLS_DIR), "utf8"),
  key: readFileSync(new URL("localhost-key.pem", TLS_DIR), "utf8"),
};

export interface TestServer {
  readonly io: Server;
  readonly httpServer: HttpServer;
  /** `http://127.0.0.1:PORT` (or `https://`). */
  readonly url: string;
  readonly port: number;
}

export interface TestServerOptions {
  /** Socket.IO server options. */
  readonly io?: Partial<ServerOptions>;
  /** Serve HTTPS with the test certificate. */
  readonly tls?: boolean;
  /** The address to listen on; default 127.0.0.1. `::ffff:127.0.0.1` makes IPv4 clients appear IPv4-mapped. */
  readonly host?: string;
  /** Runs after the Socket.IO server is attached and before it listens (guard it here). */
  readonly beforeListen?: (io: Server) => unknown;
}

/**
 * Starts an HTTP(S) server with Socket.IO attached, listening on loopback; closed by `cleanup`.
 *
 * @example
 * const { io, url } = await startTestServer(cleanup, { beforeListen: (io) => sockguard(io, { policy }) });
 */
export async function startTestServer(
  cleanup: Cleanup,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const httpServer = createBareHttpServer(options.tls === true);
  const io = new Server(httpServer, options.io);
  cleanup.addFirst(() => closeSocketIo(io));
  await options.beforeListen?.(io);
  const port = await listenOnLoopback(httpServer, options.host);
  return { io, httpServer, port, url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}` };
}

/** An HTTP(S) server that answers 404 to everything Socket.IO does not take. */
export function createBareHttpServer(tls = false): HttpServer {
  const notFound = (_req: unknown, res: { writeHead(code: number): void; end(): void }): void => {
    res.writeHead(404);
    res.end();
  };
  return tls ? (createHttpsServer(TEST_TLS, notFound) as unknown as HttpServer) : createHttpServer(notFound);
}

/** Listens on `host` (default 127.0.0.1), port 0; resolves with the port. */
export function listenOnLoopback(server: HttpServer, host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Closes a Socket.IO server, its sockets and its HTTP server. The engine drops its sessions at once
 * (a polling session closed from the client side instead would keep a 30 s timer alive, waiting
 * for a request that never comes); then the HTTP connections still open are cut.
 */
export async function closeSocketIo(io: Server): Promise<void> {
  const closing = io.close();
  (io.httpServer as HttpServer | undefined)?.closeAllConnections?.();
  await closing;
}
