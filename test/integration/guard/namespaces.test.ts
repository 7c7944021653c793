import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Namespace, Server, Socket } from "socket.io";
import { sockguard, type Decision, type Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, refused } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { startTestServer } from "../../helpers/socket-server.js";
import { hs256Issuer } from "../../helpers/tokens.js";
import { nextEvent, waitUntil } from "../../helpers/wait.js";

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  auth: { issuers: { services: hs256Issuer("urn:test:services") } },
  namespaces: {
    "/room-1": { auth: "optional", unknownEvents: "allow" },
    "/team-a": { auth: "none", unknownEvents: "allow" },
  },
};

interface ServerInternals {
  _nsps: Map<string, Namespace>;
  parentNsps: Map<unknown, Namespace & { children: Set<Namespace> }>;
}

describe("guard: namespaces", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let io: Server;
  let url: string;
  let trace: string[];

  beforeEach(async () => {
    trace = [];
    const server = await startGuardedServer(cleanup, { policy: POLICY, decisions: "all" });
    ({ io, url } = server);
    server.guard.on("decision", (d: Decision) => {
      if (d.stage === "connect") trace.push(`guard:${d.code}:${d.namespace}`);
    });
  });

  function dynamicParent(): Namespace & { children: Set<Namespace> } {
    const parent = io.of(/^\/room-\d+$/);
    parent.use((socket: Socket, next) => {
      trace.push(`app:${socket.nsp.name}`);
      next();
    });
    return parent as unknown as Namespace & { children: Set<Namespace> };
  }

  it("runs the guard before the app's middleware in a dynamic child namespace", async () => {
    const parent = dynamicParent();
    const client = createClient(cleanup, url, "/room-1", { transports: ["websocket"] });
    await connected(client);
    assert.deepEqual(trace, ["guard:allowed:/room-1", "app:/room-1"]);
    assert.equal(parent.children.size, 1);
  });

  it("refuses a dynamic child the policy does not list, and leaves no child namespace behind", async () => {
    const parent = dynamicParent();
    const internals = io as unknown as ServerInternals;
    for (const name of ["/room-2", "/room-3", "/room-2"]) {
      const refusal = await refused(createClient(cleanup, url, name, { transports: ["websocket"] }));
      assert.equal(refusal.data?.code, "namespace_not_allowed");
    }
    assert.deepEqual(trace, [
      "guard:namespace_not_allowed:undefined",
      "guard:namespace_not_allowed:undefined",
      "guard:namespace_not_allowed:undefined",
    ]);
    assert.equal(parent.children.size, 0);
    assert.equal(internals._nsps.has("/room-2"), false);
    assert.equal(internals._nsps.has("/room-3"), false);
  });

  it("does the same for children of a function parent", async () => {
    io.of((name, _auth, next) => next(null, name.startsWith("/team-")));
    await connected(createClient(cleanup, url, "/team-a", { transports: ["websocket"] }));
    await refused(createClient(cleanup, url, "/team-evil", { transports: ["websocket"] }));
    const internals = io as unknown as ServerInternals;
    assert.equal(internals._nsps.has("/team-a"), true);
    assert.equal(internals._nsps.has("/team-evil"), false);
  });

  it("keeps a dynamic child that still has sockets when a connect to it is refused", async () => {
    const parent = dynamicParent();
    const first = createClient(cleanup, url, "/room-1", { transports: ["websocket"] });
    await connected(first);
    const bad = createClient(cleanup, url, "/room-1", {
      transports: ["websocket"],
      auth: { token: "not-a-jwt" },
    });
    assert.equal((await refused(bad)).data?.code, "token_invalid");
    assert.equal(parent.children.size, 1);
    assert.equal(first.connected, true);
  });
});

describe("guard: connection state recovery", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("refuses to start when recovery skips middleware, saying why and how to fix it", async () => {
    const { io } = await startTestServer(cleanup, { io: { connectionStateRecovery: {} } });
    await assert.rejects(sockguard(io, { policy: POLICY }), (error: Error) => {
      assert.match(error.message, /skipMiddlewares/);
      assert.match(error.message, /connectionStateRecovery: \{ skipMiddlewares: false \}/);
      return true;
    });
  });

  describe("with skipMiddlewares: false", () => {
    const policyYaml = (namespaces: string): string =>
      `version: 1\nconnection: { allowMissingOrigin: true }\nnamespaces:\n${namespaces}`;

    async function recoverySetup(): Promise<{
      url: string;
      policyFile: string;
      io: Server;
      decisions: Decision[];
      reload: () => Promise<unknown>;
    }> {
      const dir = await writePolicyFiles(cleanup, {
        "policy.yaml": policyYaml("  /:\n    auth: none\n    unknownEvents: allow\n"),
      });
      const policyFile = join(dir, "policy.yaml");
      const { io, url, guard, decisions } = await startGuardedServer(
        cleanup,
        { policy: policyFile, watch: false, decisions: "all" },
        { io: { connectionStateRecovery: { skipMiddlewares: false } } },
      );
      io.on("connection", (socket) => {
        if (!socket.recovered) socket.emit("welcome");
      });
      return { url, policyFile, io, decisions, reload: () => guard.reload() };
    }

    /** Connects, receives an event (so the client has an offset), then loses the transport. */
    async function connectThenDrop(url: string): Promise<ReturnType<typeof createClient>> {
      const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
      await nextEvent(client, "welcome");
      const dropped = nextEvent(client, "disconnect");
      client.io.engine.close();
      await dropped;
      return client;
    }

    it("judges a recovered socket again (and it is recovered)", async () => {
      const { url, io, decisions } = await recoverySetup();
      const recovered: boolean[] = [];
      io.on("connection", (socket) => recovered.push(socket.recovered));
      const client = await connectThenDrop(url);
      client.connect();
      await connected(client);
      await waitUntil(() => recovered.length === 2);
      assert.deepEqual(recovered, [false, true]);
      assert.deepEqual(
        decisions.filter((d) => d.stage === "connect").map((d) => d.code),
        ["allowed", "allowed"],
      );
    });

    it("refuses to restore a socket the policy no longer admits", async () => {
      const { url, policyFile, io, reload } = await recoverySetup();
      const recovered: boolean[] = [];
      io.on("connection", (socket) => recovered.push(socket.recovered));
      const client = await connectThenDrop(url);
      await writeFile(policyFile, policyYaml("  /other:\n    auth: none\n"));
      await reload();
      client.connect();
      assert.equal((await refused(client)).data?.code, "namespace_not_allowed");
      assert.deepEqual(recovered, [false]);
    });
  });
});
