import assert from "node:assert/strict";
import type { Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";

const policy: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  namespaces: { "/": { auth: "none", events: {} }, "/chat": { auth: "none", events: {} } },
};

describe("guard: status() on one node", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("gives the policy version and the live sockets the guard admitted, and no fleet without redis", async () => {
    const { guard, url, io } = await startGuardedServer(cleanup, { policy });
    io.of("/chat");
    assert.deepEqual(guard.status(), { version: guard.version, sockets: 0 });
    const clients = [createClient(cleanup, url, "/chat"), createClient(cleanup, url, "/")];
    await Promise.all(clients.map((client) => connected(client)));
    assert.deepEqual(guard.status(), { version: guard.version, sockets: 2 });
  });
});
