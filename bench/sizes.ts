/**
 * How big each workload runs: a full run (the numbers in BENCHMARKS.md, about four minutes on two
 * cores), a quick run (`npm run bench -- --quick`, under a minute) and the smoke test's tiny run.
 * Every size is bounded both in count and in time, so a run always ends.
 */

export interface BenchSizes {
  readonly throughput: {
    /** WebSocket connections per variant. */
    readonly clients: number;
    /** Measured rounds; each round runs every variant once, in a rotating order. */
    readonly rounds: number;
    readonly windowMs: number;
    /** One unmeasured window per variant first, to warm the JIT. */
    readonly warmupMs: number;
  };
  readonly handshakes: {
    readonly rounds: number;
    readonly windowMs: number;
    readonly warmupMs: number;
    /** Connects in flight at once. */
    readonly concurrency: number;
    /** Completed connects per window at most. */
    readonly maxPerWindow: number;
  };
  readonly reconnects: {
    /** Clients that arrive with unique tokens, then drop and reconnect at once with them. */
    readonly sockets: number;
    /** Measured rounds (one more warms up first), each with fresh tokens. */
    readonly rounds: number;
    /** Connects in flight at once. */
    readonly concurrency: number;
  };
  readonly decision: {
    /** Measured rounds of each case; the median round is reported. */
    readonly rounds: number;
    /** Decisions per round. */
    readonly iterations: number;
    /** Events per batch on the Socket.IO path (one batch = one await of the dispatch). */
    readonly socketBatch: number;
    readonly socketRounds: number;
    /** Events in the large policy. */
    readonly policyEvents: number;
  };
  readonly reload: {
    /** Edits of the policy file, each waited for until in force. */
    readonly edits: number;
  };
  readonly fleet: {
    /** Sockets connected to each server for the memory and recheck measurements. */
    readonly sockets: number;
    /** Memory rounds, each with a fresh plain and guarded server process. */
    readonly memoryRounds: number;
    /** Swaps timed with the sockets connected. */
    readonly swaps: number;
  };
  readonly validate: {
    readonly runs: number;
    readonly policyEvents: number;
  };
  readonly emits: {
    /** WebSocket clients of each server (`emits: off` and `emits: warn`): a broadcast's recipients. */
    readonly recipients: number;
    /** Measured rounds, each timing both servers; the first warms up. */
    readonly rounds: number;
    /** Single emits, and broadcasts, timed per round and server. */
    readonly emits: number;
    readonly broadcasts: number;
  };
}

export const FULL_SIZES: BenchSizes = {
  throughput: { clients: 50, rounds: 12, windowMs: 2000, warmupMs: 2000 },
  handshakes: { rounds: 6, windowMs: 2500, warmupMs: 1000, concurrency: 16, maxPerWindow: 20_000 },
  reconnects: { sockets: 2000, rounds: 3, concurrency: 64 },
  decision: { rounds: 15, iterations: 200_000, socketBatch: 2000, socketRounds: 40, policyEvents: 200 },
  reload: { edits: 50 },
  fleet: { sockets: 2000, memoryRounds: 3, swaps: 10 },
  validate: { runs: 5, policyEvents: 200 },
  emits: { recipients: 1000, rounds: 11, emits: 2000, broadcasts: 20 },
};

export const QUICK_SIZES: BenchSizes = {
  throughput: { clients: 50, rounds: 2, windowMs: 1500, warmupMs: 800 },
  handshakes: { rounds: 2, windowMs: 1200, warmupMs: 500, concurrency: 16, maxPerWindow: 10_000 },
  reconnects: { sockets: 500, rounds: 1, concurrency: 64 },
  decision: { rounds: 5, iterations: 50_000, socketBatch: 1000, socketRounds: 10, policyEvents: 200 },
  reload: { edits: 10 },
  fleet: { sockets: 500, memoryRounds: 1, swaps: 5 },
  validate: { runs: 2, policyEvents: 200 },
  emits: { recipients: 1000, rounds: 3, emits: 500, broadcasts: 5 },
};

/** Tiny: proves every workload runs and reports numbers; the numbers mean nothing. */
export const SMOKE_SIZES: BenchSizes = {
  throughput: { clients: 3, rounds: 1, windowMs: 200, warmupMs: 100 },
  handshakes: { rounds: 1, windowMs: 200, warmupMs: 100, concurrency: 2, maxPerWindow: 200 },
  reconnects: { sockets: 10, rounds: 1, concurrency: 4 },
  decision: { rounds: 2, iterations: 500, socketBatch: 50, socketRounds: 2, policyEvents: 20 },
  reload: { edits: 2 },
  fleet: { sockets: 10, memoryRounds: 1, swaps: 2 },
  validate: { runs: 1, policyEvents: 20 },
  emits: { recipients: 5, rounds: 2, emits: 10, broadcasts: 2 },
};
