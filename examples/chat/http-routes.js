/**
 * The demo's plain HTTP side: the chat page and its assets, the issuer's JWKS, and the DEMO ONLY
 * token endpoint. Socket.IO handles `/socket.io/` itself (including the client script) before
 * these routes are reached.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseTokenRequest } from "./demo-issuer.js";

const PUBLIC_DIR = new URL("./public/", import.meta.url);

/** The only files served: a fixed list, so no request path ever reaches the file system. */
const PAGE_FILES = new Map([
  ["/", { file: "index.html", type: "text/html; charset=utf-8" }],
  ["/app.js", { file: "app.js", type: "text/javascript; charset=utf-8" }],
  ["/style.css", { file: "style.css", type: "text/css; charset=utf-8" }],
]);

/**
 * The page runs no inline script and talks only to its own origin ('self' covers its WebSocket
 * too), which also keeps a message's text from ever running as code.
 */
const PAGE_HEADERS = {
  "Content-Security-Policy": "default-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function sendJson(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...PAGE_HEADERS });
  res.end(JSON.stringify(body));
}

/**
 * What the demo shows about its guard: the metrics registry (served at /metrics) and the latest
 * decisions (served at /guard/decisions for the page's panel).
 *
 * @typedef {{ metrics: import("prom-client").Registry, recent: import("./console-report.js").RecentDecisions }} GuardView
 */

/**
 * Creates the request listener for the demo's HTTP server.
 *
 * @example
 * const server = http.createServer(createRequestHandler(await createDemoIssuer(issuerUrl), { metrics, recent }));
 *
 * @param {import("./demo-issuer.js").DemoIssuer} issuer
 * @param {GuardView} view
 * @returns {(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void}
 */
export function createRequestHandler(issuer, view) {
  return (req, res) => {
    handle(issuer, view, req, res).catch((error) => {
      console.error(`http: ${req.method} ${req.url?.split("?")[0]} failed: ${error.message}`);
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  };
}

/**
 * @param {import("./demo-issuer.js").DemoIssuer} issuer
 * @param {GuardView} view
 * @param {import("node:http").IncomingMessage} req
 * @param {import("node:http").ServerResponse} res
 */
async function handle(issuer, view, req, res) {
  const url = new URL(req.url ?? "/", "http://demo.invalid");
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, { error: "method not allowed" });
    return;
  }

  if (url.pathname === "/.well-known/jwks.json") {
    sendJson(res, 200, issuer.jwks);
    return;
  }

  if (url.pathname === "/metrics") {
    const body = await view.metrics.metrics();
    res.writeHead(200, { "Content-Type": view.metrics.contentType, "Cache-Control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }

  if (url.pathname === "/guard/decisions") {
    sendJson(res, 200, { decisions: view.recent.list() });
    return;
  }

  if (url.pathname === "/demo-token") {
    // DEMO ONLY: mints a token for any user and scopes, with no login. The response carries no
    // CORS header, so a page from another origin can request a token but never read it.
    const parsed = parseTokenRequest(url.searchParams);
    if ("error" in parsed) {
      sendJson(res, 400, { error: parsed.error });
      return;
    }
    sendJson(res, 200, await issuer.issueToken(parsed.request));
    return;
  }

  const page = PAGE_FILES.get(url.pathname);
  if (!page) {
    sendJson(res, 404, { error: "not found" });
    return;
  }
  const body = await readFile(fileURLToPath(new URL(page.file, PUBLIC_DIR)));
  res.writeHead(200, { "Content-Type": page.type, "Cache-Control": "no-cache", ...PAGE_HEADERS });
  res.end(req.method === "HEAD" ? undefined : body);
}
