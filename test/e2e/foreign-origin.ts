/**
 * A second web server on another port: a foreign origin whose page tries to open a Socket.IO
 * connection to the demo, as a cross-site WebSocket hijacking page would. The page loads its own
 * copy of the Socket.IO client and exposes `tryConnect(url, transports, token)`.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** What the page reports from one attempt. */
export interface ConnectOutcome {
  readonly connected: boolean;
  /** The client's error message for a refusal. */
  readonly message?: string;
  /** The guard's code, present only when the refusal came from the namespace (after the handshake). */
  readonly code?: string | null;
}

/** The function the foreign page defines on `window`. */
export interface ForeignPageApi {
  tryConnect(url: string, transports: string[], token: string): Promise<ConnectOutcome>;
}

const ATTACK_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>not the chat</title>
    <script src="/socket.io.js"></script>
    <script>
      // Connect once, without retrying, and report how it ended.
      window.tryConnect = (url, transports, token) =>
        new Promise((resolve) => {
          const socket = io(url, { transports, auth: { token }, reconnection: false, timeout: 5000, forceNew: true });
          const finish = (outcome) => {
            socket.disconnect();
            resolve(outcome);
          };
          socket.on("connect", () => finish({ connected: true }));
          socket.on("connect_error", (error) =>
            finish({ connected: false, message: error.message, code: error.data ? error.data.code : null }),
          );
        });
    </script>
  </head>
  <body>
    <p>A page from another origin.</p>
  </body>
</html>
`;

/** The foreign server, listening on its own port of 127.0.0.1. */
export interface ForeignOrigin {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Starts the foreign origin's server on a free port.
 *
 * @example
 * const foreign = await startForeignOrigin();
 * await page.goto(`${foreign.origin}/`);
 * await foreign.close();
 */
export async function startForeignOrigin(): Promise<ForeignOrigin> {
  const socketIoDir = dirname(createRequire(import.meta.url).resolve("socket.io/package.json"));
  const clientScript = await readFile(join(socketIoDir, "client-dist/socket.io.min.js"));

  const server: Server = createServer((req, res) => {
    if (req.url === "/socket.io.js") {
      res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
      res.end(clientScript);
    } else if (req.url === "/") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(ATTACK_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the foreign server has no port");

  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
