/**
 * A load-generator process: holds groups of {@link WireClient} connections and, on command, drives
 * one group with acknowledged events (closed loop: each connection sends its next event when the
 * previous one is acknowledged), or opens and closes connections as fast as the server completes
 * them. It runs apart from the server, so the server's CPU is the server's alone.
 */
import { performance } from "node:perf_hooks";
import { serveCommands } from "../processes/serve-commands.js";
import { WireClient, WireConnectError, type WireTarget } from "./wire-client.js";

export interface ConnectArgs {
  readonly group: string;
  readonly target: WireTarget;
  readonly count: number;
  /** Connects in flight at once. */
  readonly concurrency: number;
}

export interface LoadArgs {
  readonly group: string;
  readonly durationMs: number;
  readonly event: string;
  /** The event's one argument, as JSON text. */
  readonly argumentJson: string;
}

export interface LoadResult {
  /** Acknowledgements received for events sent within the window. */
  readonly events: number;
  /** Acks carrying an error, and events never acknowledged. */
  readonly errors: number;
  /** From the first send to the last acknowledgement. */
  readonly elapsedMs: number;
  /** Send-to-ack latency of every acknowledged event, in microseconds. */
  readonly latenciesUs: Float64Array;
}

export interface HandshakeArgs {
  readonly target: WireTarget;
  readonly durationMs: number;
  readonly concurrency: number;
  /** Stop after this many completed connects even if time is left. */
  readonly maxHandshakes: number;
}

export interface HandshakeResult {
  /** Connects admitted by the namespace. */
  readonly completed: number;
  /** Connects refused or failed, with the first refusal's reason. */
  readonly failed: number;
  readonly firstFailure?: string;
  readonly elapsedMs: number;
}

export interface ConnectTokensArgs {
  readonly group: string;
  /** Where to connect; each connection presents its own token from `tokens`. */
  readonly target: Omit<WireTarget, "token">;
  readonly tokens: readonly string[];
  /** Connects in flight at once. */
  readonly concurrency: number;
}

export interface ConnectTokensResult {
  /** Connections admitted (and kept open, in the group). */
  readonly connected: number;
  readonly failed: number;
  readonly firstFailure?: string;
  /** From the first connect started to the last one admitted. */
  readonly elapsedMs: number;
}

/** How long to wait for acks still in flight when a window ends. */
const DRAIN_TIMEOUT_MS = 3000;

const groups = new Map<string, WireClient[]>();

async function connect(args: ConnectArgs): Promise<{ connected: number }> {
  const clients = groups.get(args.group) ?? [];
  groups.set(args.group, clients);
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < args.count) {
      started += 1;
      clients.push(await WireClient.connect(args.target));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(args.concurrency, args.count)) }, worker));
  return { connected: clients.length };
}

/**
 * Opens one connection per token, `concurrency` at a time, keeping them open in `group`: a fleet
 * of clients arriving, or (called again after `disconnect`) the same clients reconnecting at once
 * with the tokens they had.
 */
async function connectTokens(args: ConnectTokensArgs): Promise<ConnectTokensResult> {
  const clients = groups.get(args.group) ?? [];
  groups.set(args.group, clients);
  let next = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const begin = performance.now();
  let last = begin;
  const worker = async (): Promise<void> => {
    while (next < args.tokens.length) {
      const token = args.tokens[next++]!;
      try {
        clients.push(await WireClient.connect({ ...args.target, token }));
        last = performance.now();
      } catch (error) {
        failed += 1;
        firstFailure ??= error instanceof WireConnectError && error.code ? error.code : String(error);
      }
    }
  };
  const workers = Math.max(1, Math.min(args.concurrency, args.tokens.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return {
    connected: args.tokens.length - failed,
    failed,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    elapsedMs: last - begin,
  };
}

function disconnect(args: { group: string }): null {
  for (const client of groups.get(args.group) ?? []) client.close();
  groups.delete(args.group);
  return null;
}

function load(args: LoadArgs): Promise<LoadResult> {
  const clients = groups.get(args.group);
  if (!clients || clients.length === 0) throw new Error(`no connected group ${args.group}`);
  let latencies = new Float64Array(1 << 16);
  let events = 0;
  let errors = 0;
  let outstanding = 0;
  const begin = performance.now();
  const deadline = begin + args.durationMs;
  let lastAck = begin;

  return new Promise((resolve) => {
    let finished = false;
    // Acks still missing this long after the window are counted as errors.
    const drainTimer = setTimeout(() => finish(), args.durationMs + DRAIN_TIMEOUT_MS);
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(drainTimer);
      resolve({
        events,
        errors: errors + outstanding,
        elapsedMs: lastAck - begin,
        latenciesUs: latencies.slice(0, events),
      });
    };
    const sendFrom = (client: WireClient): void => {
      if (!client.open) return;
      const sentAt = performance.now();
      outstanding += 1;
      client.emitWithAck(args.event, args.argumentJson, (reply) => {
        const now = performance.now();
        outstanding -= 1;
        if (reply.startsWith('[{"error"')) {
          errors += 1;
        } else {
          if (events === latencies.length) {
            const grown = new Float64Array(latencies.length * 2);
            grown.set(latencies);
            latencies = grown;
          }
          latencies[events++] = (now - sentAt) * 1000;
          lastAck = now;
        }
        if (now < deadline) sendFrom(client);
        else if (outstanding === 0) finish();
      });
    };
    for (const client of clients) sendFrom(client);
  });
}

async function handshakes(args: HandshakeArgs): Promise<HandshakeResult> {
  let completed = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const begin = performance.now();
  const deadline = begin + args.durationMs;
  let last = begin;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && completed < args.maxHandshakes) {
      try {
        const client = await WireClient.connect(args.target);
        completed += 1;
        last = performance.now();
        client.close();
      } catch (error) {
        failed += 1;
        firstFailure ??= error instanceof WireConnectError && error.code ? error.code : String(error);
        // A server that refuses everything would otherwise be hammered in a tight loop.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  return {
    completed,
    failed,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    elapsedMs: last - begin,
  };
}

serveCommands(
  {
    connect: (args: ConnectArgs) => connect(args),
    disconnect: (args: { group: string }) => disconnect(args),
    load: (args: LoadArgs) => load(args),
    handshakes: (args: HandshakeArgs) => handshakes(args),
    connectTokens: (args: ConnectTokensArgs) => connectTokens(args),
  },
  () => {
    for (const group of [...groups.keys()]) disconnect({ group });
  },
);
