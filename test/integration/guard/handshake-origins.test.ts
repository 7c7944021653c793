import assert from "node:assert/strict";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import {
  connected,
  createClient,
  rawRequest,
  rawUpgrade,
  refused,
  sessionIdOf,
  toWebSocketUrl,
} from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";

const ORIGIN_REFUSED = {
  code: "origin_not_allowed",
  message: "The request's origin is not allowed by the policy",
};

function policy(connection: Policy["connection"]): Policy {
  return { version: 1, connection, namespaces: { "/": { auth: "none", unknownEvents: "allow" } } };
}

const ORIGINS = ["https://chat.example.com", "https://*.apps.example.com", "http://localhost:8080"];

/** Origin header values that must be admitted by ORIGINS. */
const ADMITTED = [
  "https://chat.example.com",
  "https://CHAT.Example.COM",
  "https://chat.example.com:443",
  "https://a.apps.example.com",
  "https://deep.a.apps.example.com",
  "http://localhost:8080",
];

/** Origin header values that must be refused: look-alikes, other schemes and ports, and non-origins. */
const REFUSED = [
  "null",
  "https://chat.example.com.evil.com",
  "https://evilchat.example.com",
  "https://chat.example.co",
  "http://chat.example.com",
  "https://chat.example.com:8443",
  "https://apps.example.com",
  "https://a.apps.example.com.evil.com",
  "https://evilapps.example.com",
  "http://localhost:8081",
  "http://localhost",
  "https://chat.example.com/path",
  "https://user@chat.example.com",
  "https://chat.example.com, https://evil.com",
  "chat.example.com",
];

describe("guard: origins at the handshake and on upgrades", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let decisions: Decision[];

  async function start(connection: Policy["connection"], ioOptions = {}): Promise<void> {
    ({ url, decisions } = await startGuardedServer(
      cleanup,
      { policy: policy(connection) },
      { io: ioOptions },
    ));
  }

  const pollingHandshake = (): string => `${url}/socket.io/?EIO=4&transport=polling`;
  const websocketHandshake = (): string => `${toWebSocketUrl(url)}/socket.io/?EIO=4&transport=websocket`;

  describe("polling handshake", () => {
    beforeEach(() => start({ origins: ORIGINS }));

    for (const origin of ADMITTED) {
      it(`admits Origin ${origin}`, async () => {
        const response = await rawRequest(pollingHandshake(), { origin });
        assert.equal(response.status, 200);
        assert.match(response.body, /^0\{"sid":/);
      });
    }

    for (const origin of REFUSED) {
      it(`refuses Origin ${JSON.stringify(origin)} with 403 and the code in the body`, async () => {
        const response = await rawRequest(pollingHandshake(), { origin });
        assert.equal(response.status, 403);
        assert.deepEqual(JSON.parse(response.body), ORIGIN_REFUSED);
        assert.deepEqual(
          decisions.map(({ rule, policyVersion, ...decision }) => ({
            ...decision,
            rule: rule?.path,
            policyVersion: typeof policyVersion,
          })),
          [
            {
              allowed: false,
              code: "origin_not_allowed",
              stage: "handshake",
              address: "127.0.0.1",
              rule: "/connection/origins",
              policyVersion: "string",
            },
          ],
        );
      });
    }

    it("refuses a request without Origin", async () => {
      const response = await rawRequest(pollingHandshake());
      assert.equal(response.status, 403);
      assert.deepEqual(JSON.parse(response.body), ORIGIN_REFUSED);
    });

    it("admits a browser's same-origin polling handshake (no Origin, Sec-Fetch-Site: same-origin, allowed Host)", async () => {
      const response = await rawRequest(pollingHandshake(), {
        "sec-fetch-site": "same-origin",
        host: "localhost:8080",
      });
      assert.equal(response.status, 200);
    });

    it("refuses a same-origin claim whose Host is not an allowed origin, and a cross-site one", async () => {
      const foreignHost = await rawRequest(pollingHandshake(), {
        "sec-fetch-site": "same-origin",
        host: "evil.com",
      });
      assert.equal(foreignHost.status, 403);
      const crossSite = await rawRequest(pollingHandshake(), {
        "sec-fetch-site": "cross-site",
        host: "localhost:8080",
      });
      assert.equal(crossSite.status, 403);
    });
  });

  describe("direct WebSocket handshake", () => {
    beforeEach(() => start({ origins: ORIGINS }));

    for (const origin of ADMITTED) {
      it(`admits Origin ${origin}`, async () => {
        const result = await rawUpgrade(cleanup, websocketHandshake(), { origin });
        assert.equal(result.opened, true);
      });
    }

    for (const origin of REFUSED) {
      it(`refuses Origin ${JSON.stringify(origin)} with 400 and the code in the body`, async () => {
        const result = await rawUpgrade(cleanup, websocketHandshake(), { origin });
        assert.deepEqual(result, { opened: false, status: 400, body: JSON.stringify(ORIGIN_REFUSED) });
      });
    }

    it("refuses an upgrade without Origin, even claiming same-origin (browsers always send Origin on WebSocket)", async () => {
      const bare = await rawUpgrade(cleanup, websocketHandshake());
      assert.equal(bare.opened, false);
      const claimed = await rawUpgrade(cleanup, websocketHandshake(), {
        "sec-fetch-site": "same-origin",
        host: "localhost:8080",
      });
      assert.equal(claimed.opened, false);
    });
  });

  describe("WebSocket upgrade of an established polling session", () => {
    let allowRequestCalls: number;

    beforeEach(async () => {
      allowRequestCalls = 0;
      await start(
        { origins: ORIGINS },
        {
          allowRequest: (_req: unknown, callback: (err: string | null, ok: boolean) => void) => {
            allowRequestCalls += 1;
            callback(null, true);
          },
        },
      );
    });

    async function pollingSession(): Promise<string> {
      const response = await rawRequest(pollingHandshake(), { origin: "https://chat.example.com" });
      assert.equal(response.status, 200);
      return sessionIdOf(response.body);
    }

    it("refuses the upgrade from a foreign origin (allowRequest never sees it)", async () => {
      const sid = await pollingSession();
      const result = await rawUpgrade(cleanup, `${websocketHandshake()}&sid=${sid}`, {
        origin: "https://evil.com",
      });
      assert.deepEqual(result, { opened: false, status: 400, body: JSON.stringify(ORIGIN_REFUSED) });
      assert.equal(allowRequestCalls, 1);
      assert.deepEqual(
        decisions.map((d) => [d.code, d.stage]),
        [["origin_not_allowed", "upgrade"]],
      );
    });

    it("admits the upgrade from an allowed origin", async () => {
      const sid = await pollingSession();
      const result = await rawUpgrade(cleanup, `${websocketHandshake()}&sid=${sid}`, {
        origin: "https://chat.example.com",
      });
      assert.equal(result.opened, true);
    });
  });

  describe("with allowMissingOrigin", () => {
    beforeEach(() => start({ origins: ["https://chat.example.com"], allowMissingOrigin: true }));

    it("admits non-browser clients without Origin on both transports", async () => {
      for (const transport of ["polling", "websocket"] as const) {
        const client = createClient(cleanup, url, "/", { transports: [transport] });
        await connected(client);
      }
    });

    it("still refuses a present Origin that is not allowed", async () => {
      const response = await rawRequest(pollingHandshake(), { origin: "https://evil.com" });
      assert.equal(response.status, 403);
      const result = await rawUpgrade(cleanup, websocketHandshake(), { origin: "https://evil.com" });
      assert.equal(result.opened, false);
    });
  });

  it("chains the app's allowRequest: it still runs, and can still refuse, after the guard admits", async () => {
    const seen: string[] = [];
    await start(
      { origins: ["https://chat.example.com"] },
      {
        allowRequest: (
          req: { headers: { origin?: string; "x-app-veto"?: string } },
          callback: (err: string | null, ok: boolean) => void,
        ) => {
          seen.push(String(req.headers.origin));
          callback(req.headers["x-app-veto"] ? "vetoed by the app" : null, !req.headers["x-app-veto"]);
        },
      },
    );
    const foreign = await rawRequest(pollingHandshake(), { origin: "https://evil.com" });
    assert.equal(foreign.status, 403);
    const vetoed = await rawRequest(pollingHandshake(), {
      origin: "https://chat.example.com",
      "x-app-veto": "1",
    });
    assert.equal(vetoed.status, 403);
    assert.equal((JSON.parse(vetoed.body) as { message: string }).message, "vetoed by the app");
    const admitted = await rawRequest(pollingHandshake(), { origin: "https://chat.example.com" });
    assert.equal(admitted.status, 200);
    assert.deepEqual(seen, ["https://chat.example.com", "https://chat.example.com"]);
  });

  it("refuses socket.io-client from a foreign origin over polling and WebSocket", async () => {
    await start({ origins: ["https://chat.example.com"] });
    for (const transport of ["polling", "websocket"] as const) {
      const client = createClient(cleanup, url, "/", {
        transports: [transport],
        extraHeaders: { origin: "https://evil.com" },
      });
      const refusal = await refused(client);
      assert.match(refusal.message, transport === "polling" ? /xhr poll error/ : /websocket error/);
    }
    assert.deepEqual(
      decisions.map((d) => d.code),
      ["origin_not_allowed", "origin_not_allowed"],
    );
  });
});
