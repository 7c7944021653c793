/**
 * A real Socket.IO server with sockguard in front of it, for the guard's integration tests: the
 * guard is in place before the server listens, every decision it reports is collected, and the
 * guard is closed with the server.
 */
import { sockguard, type Decision, type Guard, type SockguardOptions } from "../../src/index.js";
import type { Cleanup } from "./cleanup.js";
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
