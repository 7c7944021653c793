import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sockguard, type Decision, type Guard, type ReloadEvent } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, rawRequest } from "../../helpers/clients.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { startTestServer } from "../../helpers/socket-server.js";
import { nextEvent } from "../../helpers/wait.js";

const policyYaml = (namespaces: string): string =>
  ["version: 1", "connection: { allowMissingOrigin: true }", "namespaces:", namespaces].join("\n") + "\n";

const CHAT_AND_NEWS = policyYaml(
  [
    "  /chat:",
    "    auth: none",
    "    events:",
    "      say: { args: [{ type: string }] }",
    "  /news:",
    "    auth: none",
    "    events: {}",
  ].join("\n"),
);

const CHAT_ONLY_SHOUT = policyYaml(
  ["  /chat:", "    auth: none", "    events:", "      shout: { args: [{ type: string }] }"].join("\n"),
);

function quietLogger(): {
  messages: string[];
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
} {
  const messages: string[] = [];
  const push = (m: string): void => void messages.push(m);
  return { messages, info: push, warn: push, error: push };
}

describe("guard: lifecycle", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function guardedServer(
    files: Record<string, string>,
  ): Promise<{ url: string; guard: Guard; policyFile: string }> {
    const dir = await writePolicyFiles(cleanup, files);
    const policyFile = join(dir, "policy.yaml");
    let guard: Guard | undefined;
    const { io, url } = await startTestServer(cleanup, {
      beforeListen: async (server) => {
        guard = await sockguard(server, { policy: policyFile, watch: false });
        cleanup.add(() => guard!.close());
      },
    });
    for (const name of ["/chat", "/news"]) {
      io.of(name).on("connection", (socket) =>
        socket.onAny((...args: unknown[]) => {
          const ack = args.at(-1);
          if (typeof ack === "function") (ack as (r: string) => void)("handled");
        }),
      );
    }
    return { url, guard: guard!, policyFile };
  }

  it("rejects when the policy file does not exist, so the server never runs unguarded", async () => {
    const { io } = await startTestServer(cleanup);
    await assert.rejects(
      sockguard(io, { policy: "/nonexistent/sockguard/policy.yaml" }),
      (error: Error & { diagnostics?: unknown[] }) => {
        assert.equal(error.name, "PolicyLoadError");
        assert.match(error.message, /the policy did not load/);
        assert.ok(Array.isArray(error.diagnostics) && error.diagnostics.length > 0);
        return true;
      },
    );
  });

  it("rejects a policy object with errors, pointing at them", async () => {
    const { io } = await startTestServer(cleanup);
    await assert.rejects(
      sockguard(io, {
        policy: { version: 1, namespaces: { "/": { auth: "none", events: { e: {} } } } } as never,
      }),
      (error: Error & { diagnostics?: Array<{ path: string }> }) => {
        assert.ok(error.diagnostics?.some((d) => d.path.startsWith("/namespaces/~1/events/e")));
        return true;
      },
    );
  });

  it("rejects a second sockguard() on the same server, and a policy that is neither a path nor an object", async () => {
    const { io } = await startTestServer(cleanup);
    await assert.rejects(sockguard(io, { policy: 42 as never }), TypeError);
    const policy = { version: 1 as const, namespaces: { "/": { auth: "none" as const } } };
    await sockguard(io, { policy });
    await assert.rejects(sockguard(io, { policy }), /already guarded/);
  });

  it("reload() re-reads the file now and puts an edit in force, saying whether the version changed", async () => {
    const { url, guard, policyFile } = await guardedServer({ "policy.yaml": CHAT_AND_NEWS });
    const reloads: ReloadEvent[] = [];
    guard.on("reload", (event) => reloads.push(event));
    const firstVersion = guard.version;
    assert.deepEqual(await guard.reload(), { ok: true, version: firstVersion, changed: false });
    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    assert.equal(await emitWithReply(client, "say", "hi"), "handled");

    await writeFile(policyFile, CHAT_ONLY_SHOUT);
    const outcome = await guard.reload();
    assert.deepEqual(outcome, { ok: true, version: guard.version, changed: true });
    assert.notEqual(guard.version, firstVersion);
    assert.deepEqual(reloads.at(-1), { version: guard.version, files: [policyFile] });
    assert.equal(
      ((await emitWithReply(client, "say", "hi")) as { error: { code: string } }).error.code,
      "event_not_allowed",
    );
    assert.equal(await emitWithReply(client, "shout", "HI"), "handled");
  });

  it("follows the policy file: an edit is in force without a call to reload()", async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": CHAT_AND_NEWS });
    const policyFile = join(dir, "policy.yaml");
    let guard: Guard | undefined;
    const { io, url } = await startTestServer(cleanup, {
      beforeListen: async (server) => {
        guard = await sockguard(server, { policy: policyFile, logger: quietLogger() });
        cleanup.add(() => guard!.close());
      },
    });
    io.of("/chat").on("connection", (socket) =>
      socket.on("say", (_text: string, ack: (r: string) => void) => ack("handled")),
    );
    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    const reloaded = nextEvent<[ReloadEvent]>(guard!, "reload", 5000);
    await writeFile(policyFile, CHAT_ONLY_SHOUT);
    assert.equal((await reloaded)[0].version, guard!.version);
    assert.equal(
      ((await emitWithReply(client, "say", "hi")) as { error: { code: string } }).error.code,
      "event_not_allowed",
    );
  });

  it("keeps the policy in force when an edit does not load, and reports why", async () => {
    const { url, guard, policyFile } = await guardedServer({ "policy.yaml": CHAT_AND_NEWS });
    const before = guard.version;
    const failed = nextEvent<[{ diagnostics: unknown[] }]>(guard, "reloadFailed");
    await writeFile(policyFile, CHAT_AND_NEWS.replace("version: 1", "version: 1\nbogusKey: true"));
    const outcome = await guard.reload();
    assert.equal(outcome.ok, false);
    const [event] = await failed;
    assert.ok(event.diagnostics.length > 0);
    assert.equal(guard.version, before);
    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    assert.equal(await emitWithReply(client, "say", "still"), "handled");
  });

  it("disconnects, with policy_changed, the live sockets a new policy no longer admits", async () => {
    const { url, guard, policyFile } = await guardedServer({ "policy.yaml": CHAT_AND_NEWS });
    const decisions: Decision[] = [];
    guard.on("decision", (d) => decisions.push(d));
    const chat = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    const news = createClient(cleanup, url, "/news", { transports: ["websocket"] });
    await Promise.all([connected(chat), connected(news)]);
    const told = nextEvent<[{ code: string }]>(news, "sockguard:denied");
    const gone = nextEvent<[string]>(news, "disconnect");
    await writeFile(policyFile, CHAT_ONLY_SHOUT);
    await guard.reload();
    assert.deepEqual((await told)[0], {
      code: "policy_changed",
      message: "The policy in force no longer admits this connection",
    });
    assert.equal((await gone)[0], "io server disconnect");
    assert.equal(chat.connected, true);
    assert.deepEqual(
      decisions.map((d) => [d.code, d.stage, d.namespace]),
      [["policy_changed", "recheck", "/news"]],
    );
  });

  it("reports allows too with decisions: all", async () => {
    const { io, url } = await startTestServer(cleanup, {
      beforeListen: async (server) => {
        const guard = await sockguard(server, {
          policy: {
            version: 1,
            connection: { allowMissingOrigin: true },
            namespaces: { "/": { auth: "none", unknownEvents: "allow" } },
          },
          decisions: "all",
        });
        guard.on("decision", (d) => decisions.push(d));
      },
    });
    const decisions: Decision[] = [];
    io.on("connection", (socket) => socket.on("hello", (ack: () => void) => ack()));
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    await emitWithReply(client, "hello");
    assert.deepEqual(
      decisions.map((d) => [d.allowed, d.stage]),
      [
        [true, "handshake"],
        [true, "connect"],
        [true, "event"],
      ],
    );
  });

  it("survives a decision listener that throws, and logs it", async () => {
    const logger = quietLogger();
    const { url } = await startTestServer(cleanup, {
      beforeListen: async (server) => {
        const guard = await sockguard(server, {
          policy: { version: 1, namespaces: { "/": { auth: "none" } } },
          logger,
        });
        guard.on("decision", () => {
          throw new Error("listener bug");
        });
      },
    });
    const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`, {
      origin: "https://evil.example",
    });
    assert.equal(response.status, 403);
    assert.deepEqual(logger.messages, ["sockguard: a decision listener threw: listener bug"]);
  });

  it("warns when the WebSocket frame limit, fixed at listen(), is below maxPayload", async () => {
    const logger = quietLogger();
    const { io } = await startTestServer(cleanup);
    await sockguard(io, {
      policy: { version: 1, connection: { maxPayload: "2MB" }, namespaces: { "/": { auth: "none" } } },
      logger,
    });
    assert.deepEqual(logger.messages, [
      "sockguard: WebSocket frames are limited to 1000000 bytes until the server restarts (maxPayload is 2000000); " +
        "call sockguard() before listen(), or raise maxHttpBufferSize",
    ]);
    assert.ok(io.engine.opts.maxHttpBufferSize! >= 2_000_000);
  });

  it("close() leaves sockets alone and the policy in force", async () => {
    const { url, guard } = await guardedServer({ "policy.yaml": CHAT_AND_NEWS });
    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    await guard.close();
    assert.equal(client.connected, true);
    assert.equal(
      ((await emitWithReply(client, "nope")) as { error: { code: string } }).error.code,
      "event_not_allowed",
    );
    await assert.rejects(guard.reload(), /closed/);
  });
});
