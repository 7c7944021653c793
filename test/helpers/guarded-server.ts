/**
 * A real Socket.IO server with sockguard in front of it, for the guard's integration tests: the
 * guard is in place before the server listens, every decision it reports is collected, and the
 * guard is closed with the server.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sockguard, type Decision, type Guard, type Policy, type SockguardOptions } from "../../src/index.js";
import type { Cleanup } from "./cleanup.js";
import { writePolicyFiles } from "./policy-files.js";
import { startTestServer, type TestServer, type TestServerOptions } from "./socket-server.js";

export interface GuardedServer extends TestServer {
  readonly guard: Guard;
  /** The guard's decisions so far, in order: denials, and allows too with `decisions: "all"`. */
  readonly decisions: Decision[];
}

/**
 * Starts a test server guarded with `guardOptions`; everything is closed by `cleanup`.
 *
 * @example
 * const { io, url, decisions } = await startGuardedServer(cleanup, { policy: POLICY });
 * io.of("/chat").on("connection", (socket) => socket.on("message", handle));
 */
export async function startGuardedServer(
  cleanup: Cleanup,
  guardOptions: SockguardOptions,
  serverOptions: Omit<TestServerOptions, "beforeListen"> = {},
): Promise<GuardedServer> {
  const decisions: Decision[] = [];
  let guarded: Guard | undefined;
  const server = await startTestServer(cleanup, {
    ...serverOptions,
    beforeListen: async (io) => {
      const guard = await sockguard(io, guardOptions);
      cleanup.add(() => guard.close());
      guard.on("decision", (decision) => decisions.push(decision));
      guarded = guard;
    },
  });
  if (!guarded) throw new Error("the guard was not started before the server listened");
  return { ...server, guard: guarded, decisions };
}

export interface ReloadableServer extends GuardedServer {
  /** Writes `policy` over the policy file and puts it in force with guard.reload(); fails if it did not change. */
  reloadWith(policy: Policy): Promise<void>;
}

/**
 * A guarded server whose policy is a real file (not watched), reloaded on demand.
 *
 * @example
 * const server = await startReloadableServer(cleanup, policy);
 * await server.reloadWith({ ...policy, connection: { transports: ["websocket"] } });
 */
export async function startReloadableServer(cleanup: Cleanup, policy: Policy): Promise<ReloadableServer> {
  const dir = await writePolicyFiles(cleanup, { "policy.yaml": JSON.stringify(policy, null, 2) });
  const policyFile = join(dir, "policy.yaml");
  const server = await startGuardedServer(cleanup, { policy: policyFile, watch: false });
  const reloadWith = async (next: Policy): Promise<void> => {
    await writeFile(policyFile, JSON.stringify(next, null, 2));
    const outcome = await server.guard.reload();
    assert.equal(outcome.ok && outcome.changed, true, "the edit was not put in force");
  };
  return { ...server, reloadWith };
}
