/**
 * A real JWKS endpoint on loopback HTTP that a test can switch between behaviours: serving its keys,
 * serving them after a delay, answering 503, resetting connections, answering garbage, answering
 * too slowly, or an oversized body. It counts requests, so tests can check caching and cooldowns.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";

export type JwksServerMode =
  "ok" | "delayed" | "error" | "reset" | "garbage" | "slow" | "oversize" | "redirect";

export class JwksServer {
  /** The JWK set endpoint's URL. */
  readonly url: string;
  /** Requests received, in every mode. */
  requests = 0;
  mode: JwksServerMode = "ok";
  /** How long a `delayed` answer (the keys, as in `ok`) waits. */
  delayMs = 500;
  keys: JWK[];
  readonly #server: Server;
  readonly #slowResponses = new Set<ServerResponse>();

  private constructor(server: Server, keys: JWK[]) {
    this.#server = server;
    this.keys = keys;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  }

  static async start(keys: JWK[] = []): Promise<JwksServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const instance = new JwksServer(server, keys);
    server.on("request", (request: IncomingMessage, response: ServerResponse) =>
      instance.#answer(request, response),
    );
    return instance;
  }

  /** Answers every request held in `slow` mode with the keys, as a slow endpoint finally would. */
  answerHeld(): void {
    for (const response of this.#slowResponses) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ keys: this.keys }));
    }
    this.#slowResponses.clear();
  }

  async close(): Promise<void> {
    for (const response of this.#slowResponses) response.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #answer(request: IncomingMessage, response: ServerResponse): void {
    this.requests += 1;
    switch (this.mode) {
      case "ok":
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ keys: this.keys }));
        return;
      case "delayed": {
        const timer = setTimeout(() => {
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify({ keys: this.keys }));
        }, this.delayMs);
        response.on("close", () => clearTimeout(timer));
        return;
      }
      case "error":
        response.writeHead(503, { "content-type": "application/json" });
        response.end(JSON.stringify({ keys: this.keys }));
        return;
      case "reset":
        request.socket.destroy();
        return;
      case "garbage":
        response.writeHead(200, { "content-type": "application/json" });
        response.end("<html>this is not a JWK set</html>");
        return;
      case "slow":
        // Answers only when the test calls answerHeld(); closed when the test ends.
        this.#slowResponses.add(response);
        response.on("close", () => this.#slowResponses.delete(response));
        return;
      case "oversize":
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ keys: this.keys, padding: "x".repeat(600 * 1024) }));
        return;
      case "redirect":
        response.writeHead(302, { location: "http://127.0.0.1:9/jwks.json" });
        response.end();
        return;
    }
  }
}
