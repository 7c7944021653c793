import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Registry } from "prom-client";
import type { Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, rawRequest, refused } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { claimsFor, createSigningKey, signWith } from "../../helpers/tokens.js";
import { delay } from "../../helpers/wait.js";

type Labels = Record<string, string | number>;

/** The series of one metric as the registry would expose them: labels and value. */
async function series(register: Registry, name: string): Promise<{ labels: Labels; value: number }[]> {
  const metric = (await register.getMetricsAsJSON()).find((entry) => entry.name === name);
  assert.ok(metric, `${name} is not registered`);
  return (metric.values as { labels: Labels; value: number; metricName?: string }[])
    .filter((value) => value.metricName === undefined || value.metricName === name)
    .map(({ labels, value }) => ({ labels, value }));
}

/** Waits (up to 2 s) until the series with `labels` reaches `expected`, for counts of events sent without an ack. */
async function reaches(register: Registry, name: string, labels: Labels, expected: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while ((await valueOf(register, name, labels)) !== expected && Date.now() < deadline) await delay(10);
  assert.equal(await valueOf(register, name, labels), expected, `${name} ${JSON.stringify(labels)}`);
}

/** The value of the series with exactly `labels` (0 when absent). */
async function valueOf(register: Registry, name: string, labels: Labels): Promise<number> {
  const found = (await series(register, name)).find(
    (entry) =>
      Object.keys(entry.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([key, value]) => entry.labels[key] === value),
  );
  return found?.value ?? 0;
}

const POLICY: Policy = {
  version: 1,
  connection: { origins: ["http://app.example.test"], allowMissingOrigin: true },
  namespaces: {
    "/chat": {
      auth: "none",
      events: { message: { args: [{ type: "string", maxLength: 10 }] } },
    },
    "/lobby": { auth: "none", unknownEvents: "allow", events: {} },
  },
};

describe("observe: Prometheus metrics", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("counts every decision by code, stage, declared namespace and event; invented names are `other`", async () => {
    const register = new Registry();
    const { io, url } = await startGuardedServer(cleanup, { policy: POLICY, metrics: register });
    io.of("/chat").on("connection", (socket) =>
      socket.on("message", (_text: string, ack: () => void) => ack()),
    );
    io.of("/lobby");
    io.of("/secret"); // exists in the app, not in the policy
    io.of(/^\/room-.+$/); // children are named by the client

    const chat = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(chat);
    for (let i = 0; i < 3; i += 1) await emitWithReply(chat, "message", "hi");
    await emitWithReply(chat, "message", "far too long for the schema");
    await emitWithReply(chat, "invented\u0000event", "x");
    const lobby = createClient(cleanup, url, "/lobby", { transports: ["websocket"] });
    await connected(lobby);
    lobby.emit("anything-at-all");
    lobby.emit("another-name");
    for (const namespace of ["/secret", "/room-a\u001b[31m", "/room-b"]) {
      await refused(createClient(cleanup, url, namespace, { transports: ["websocket"] }));
    }
    const foreign = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`, {
      origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);

    const decisions = "sockguard_decisions_total";
    const labels = (code: string, stage: string, namespace: string, event: string): Labels => ({
      code,
      stage,
      namespace,
      event,
      shadow: "false",
    });
    assert.equal(await valueOf(register, decisions, labels("allowed", "event", "/chat", "message")), 3);
    assert.equal(
      await valueOf(register, decisions, labels("payload_invalid", "event", "/chat", "message")),
      1,
    );
    assert.equal(await valueOf(register, decisions, labels("event_not_allowed", "event", "/chat", "")), 1);
    assert.equal(await valueOf(register, decisions, labels("allowed", "connect", "/chat", "")), 1);
    await reaches(register, decisions, labels("allowed", "event", "/lobby", "other"), 2);
    assert.equal(
      await valueOf(register, decisions, labels("namespace_not_allowed", "connect", "other", "")),
      3,
    );
    assert.equal(await valueOf(register, decisions, labels("origin_not_allowed", "handshake", "", "")), 1);

    const namespaces = new Set((await series(register, decisions)).map((entry) => entry.labels.namespace));
    assert.deepEqual([...namespaces].sort(), ["", "/chat", "/lobby", "other"]);
  });

  it("follows reloads: the info metric moves, a removed namespace's sockets series goes away, reload results are counted", async () => {
    const register = new Registry();
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": JSON.stringify(POLICY) });
    const file = join(dir, "policy.yaml");
    const { io, url, guard } = await startGuardedServer(cleanup, {
      policy: file,
      watch: false,
      metrics: register,
    });
    io.of("/chat");
    io.of("/lobby");
    const first = guard.version;
    assert.deepEqual(await series(register, "sockguard_policy_info"), [
      { labels: { version: first }, value: 1 },
    ]);

    await connected(createClient(cleanup, url, "/chat", { transports: ["websocket"] }));
    await connected(createClient(cleanup, url, "/chat", { transports: ["polling"] }));
    await connected(createClient(cleanup, url, "/lobby", { transports: ["websocket"] }));
    assert.equal(await valueOf(register, "sockguard_sockets", { namespace: "/chat" }), 2);
    assert.equal(await valueOf(register, "sockguard_sockets", { namespace: "/lobby" }), 1);

    assert.deepEqual(await guard.reload(), { ok: true, version: first, changed: false });
    await writeFile(file, "version: 1\nnamespaces: { /chat: { auth: nope } }\n");
    assert.equal((await guard.reload()).ok, false);
    const { "/lobby": _removed, ...kept } = POLICY.namespaces;
    await writeFile(file, JSON.stringify({ ...POLICY, namespaces: kept }));
    const applied = await guard.reload();
    assert.equal(applied.ok && applied.changed, true);

    assert.deepEqual(await series(register, "sockguard_policy_info"), [
      { labels: { version: guard.version }, value: 1 },
    ]);
    assert.deepEqual(await series(register, "sockguard_sockets"), [
      { labels: { namespace: "/chat" }, value: 2 },
    ]);
    assert.equal(await valueOf(register, "sockguard_policy_reloads_total", { result: "applied" }), 1);
    assert.equal(await valueOf(register, "sockguard_policy_reloads_total", { result: "unchanged" }), 1);
    assert.equal(await valueOf(register, "sockguard_policy_reloads_total", { result: "failed" }), 1);
    const text = await register.metrics();
    assert.match(text, /^sockguard_reload_seconds_count 1$/m);
    assert.match(
      text,
      /sockguard_decisions_total\{code="policy_changed",stage="recheck",namespace="other",event="",shadow="false"\} 1/,
    );
  });

  it("counts JWKS downloads by declared issuer and result", async () => {
    const key = await createSigningKey("RS256", "key-1");
    const jwks = await JwksServer.start([key.jwk]);
    cleanup.add(() => jwks.close());
    jwks.mode = "error";
    const register = new Registry();
    const idp = "https://idp.example.test/";
    const policy: Policy = {
      version: 1,
      connection: { allowMissingOrigin: true },
      auth: { issuers: { idp: { issuer: idp, jwksUri: jwks.url, audience: "chat", algorithms: ["RS256"] } } },
      namespaces: { "/chat": { events: {} } },
    };
    const { io, url } = await startGuardedServer(cleanup, { policy, metrics: register });
    io.of("/chat");
    const token = await signWith(key, claimsFor(idp, "chat"));
    const down = await refused(
      createClient(cleanup, url, "/chat", { transports: ["websocket"], auth: { token } }),
    );
    assert.equal(down.data?.code, "keys_unavailable");
    assert.ok(
      (await valueOf(register, "sockguard_jwks_requests_total", { issuer: "idp", result: "error" })) >= 1,
    );
    assert.equal(
      await valueOf(register, "sockguard_jwks_requests_total", { issuer: "idp", result: "ok" }),
      0,
    );

    jwks.mode = "ok";
    await delay(1100); // the pause after failed first downloads is at most 1 s
    await connected(createClient(cleanup, url, "/chat", { transports: ["websocket"], auth: { token } }));
    assert.equal(
      await valueOf(register, "sockguard_jwks_requests_total", { issuer: "idp", result: "ok" }),
      1,
    );
    assert.ok(
      (await valueOf(register, "sockguard_decisions_total", {
        code: "keys_unavailable",
        stage: "connect",
        namespace: "/chat",
        event: "",
        shadow: "false",
      })) >= 1,
    );
  });

  it("refuses a metrics option that is not a Registry", async () => {
    await assert.rejects(
      startGuardedServer(cleanup, { policy: POLICY, metrics: {} as Registry }),
      /options\.metrics must be a prom-client Registry/,
    );
  });
});
