/**
 * `node --import tsx bench/big-policy.ts [--events 2000] [--reloads 5] [--keep]`: a generated policy
 * of many events, written to a temporary directory, and three timings on it: the first load and compile,
 * `sockguard validate` (the built CLI, spawned as CI runs it), and reloads that change one event,
 * from the file write until the guard's `reload` event says the new version is in force (through
 * the real watcher and its debounce), with the CPU time the process spent meanwhile. Prints one
 * JSON object on stdout.
 *
 * The events cycle through four shapes, as a big application's do: an object message and a
 * moderation request, each a `$ref` to a schema file shared by many events, a positional string
 * whose `maxLength` varies (50 distinct schemas), and an event without arguments. Inline schemas as
 * large as the throughput bench's filler events would exceed the loader's 10,000-value limit
 * (`MAX_LOAD_VALUES`) long before 2,000 events; this mix stays under it (about 8,500 values).
 *
 * `--keep` copies the directory (its path is printed) for `node --cpu-prof` runs.
 */
import { once } from "node:events";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { Server } from "socket.io";
import { compileLoaded } from "../src/compile/compile-loaded.js";
import { createCompileContext } from "../src/compile/auth.js";
import { loadPolicy, sockguard, type Guard, type ReloadEvent } from "../src/index.js";
import { createIssuerKey } from "./fixtures/issuer-keys.js";
import {
  fillerEventName,
  guardedPolicy,
  MODERATION_SCHEMA,
  policyYaml,
  withTempDir,
  writePolicyFiles,
} from "./fixtures/policies.js";
import type { VerificationKey } from "./fixtures/issuer-keys.js";
import { BENCH_NAMESPACE } from "./fixtures/scenario.js";
import type { EventPolicy, JsonObject, Policy } from "../src/policy/types.js";
import { median } from "./stats.js";
import { BUILT_CLI, timeProcess } from "./workloads/validate.js";

export interface BigPolicyTimings {
  readonly events: number;
  /** loadPolicy + compile of the first policy, in a fresh process state (ms). */
  readonly firstLoadMs: number;
  /** `sockguard validate` as a fresh process, spawn to exit (ms); absent when the CLI is not built. */
  readonly validateMs?: number;
  /** Each reload changing one event: file write → new version in force (ms). */
  readonly reloadMs: readonly number[];
  /**
   * The CPU time this process spent over each of those reloads (ms): the watcher, the load and
   * the compile, without the time spent waiting for the quiet period or for the CPU, so it moves
   * far less with the machine's load than `reloadMs`.
   */
  readonly reloadCpuMs: readonly number[];
}

/**
 * Generates an `events`-event policy in a temporary directory and times it.
 *
 * @example
 * const { firstLoadMs, reloadMs } = await timeBigPolicy({ events: 2000, reloads: 5 });
 */
export async function timeBigPolicy(options: {
  readonly events: number;
  readonly reloads: number;
  readonly keep?: (dir: string) => Promise<void>;
}): Promise<BigPolicyTimings> {
  const key = await createIssuerKey("HS256");
  const revision = (n: number): string => policyYaml(bigPolicy(key.verification, options.events, n));
  return withTempDir(async (dir) => {
    const path = await writePolicyFiles(dir, bigPolicy(key.verification, options.events, 0));
    for (const [file, schema] of Object.entries(SHARED_SCHEMAS)) {
      await writeFile(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
    }
    const context = createCompileContext();
    const begin = performance.now();
    const first = compileLoaded(await loadPolicy(path), context);
    const firstLoadMs = performance.now() - begin;
    context.remoteKeySets.close();
    if (!first.ok) throw new Error(`the generated policy does not compile: ${first.diagnostics[0]?.message}`);

    const validateMs = existsSync(BUILT_CLI) ? await timeProcess([BUILT_CLI, "validate", path]) : undefined;

    const io = new Server();
    let guard: Guard | undefined;
    const reloadMs: number[] = [];
    const reloadCpuMs: number[] = [];
    try {
      guard = await sockguard(io, { policy: path, logger: silentLogger });
      for (let edit = 1; edit <= options.reloads; edit++) {
        const previous = guard.version;
        const inForce = waitForNewVersion(guard, previous);
        const text = revision(edit);
        const cpu = process.cpuUsage();
        const start = performance.now();
        await writeFile(path, text);
        await inForce;
        reloadMs.push(performance.now() - start);
        const used = process.cpuUsage(cpu);
        reloadCpuMs.push((used.user + used.system) / 1000);
        await sleep(100);
      }
    } finally {
      await guard?.close();
    }
    await options.keep?.(dir);
    return {
      events: options.events,
      firstLoadMs,
      ...(validateMs === undefined ? {} : { validateMs }),
      reloadMs,
      reloadCpuMs,
    };
  });
}

async function waitForNewVersion(guard: Guard, previous: string): Promise<void> {
  const timeout = AbortSignal.timeout(60_000);
  for (;;) {
    const [event] = (await once(guard, "reload", { signal: timeout })) as [ReloadEvent];
    if (event.version !== previous) return;
  }
}

const SHARED_SCHEMAS: Readonly<Record<string, JsonObject>> = {
  "schemas/room-message.json": {
    type: "object",
    required: ["room", "text"],
    additionalProperties: false,
    properties: {
      room: { type: "string", maxLength: 32, pattern: "^[a-z0-9-]{1,32}$" },
      text: { type: "string", maxLength: 200, format: "safe-text" },
    },
  },
  "schemas/moderation.json": MODERATION_SCHEMA,
};

/**
 * The bench policy with `events` events in `/chat` (the bench's `echo` among them); `revision`
 * changes one event's schema, so each revision is a new policy version differing in one event.
 *
 * @example
 * const policy = bigPolicy(key.verification, 2000, 0);
 */
export function bigPolicy(key: VerificationKey, events: number, revision: number): Policy {
  const policy = guardedPolicy(key);
  const chat = policy.namespaces![BENCH_NAMESPACE]!;
  const declared: Record<string, EventPolicy> = { ...chat.events };
  for (let i = 0; i < events - 1; i++) declared[fillerEventName(i)] = bigPolicyEvent(i, revision);
  return { ...policy, namespaces: { [BENCH_NAMESPACE]: { ...chat, events: declared } } };
}

function bigPolicyEvent(i: number, revision: number): EventPolicy {
  switch (i % 4) {
    case 0:
      return { schema: { $ref: "schemas/room-message.json" } };
    case 1:
      return { args: [{ type: "string", maxLength: i === 1 ? 1000 + revision : 64 + (i % 50) }] };
    case 2:
      return { args: [] };
    default:
      return { schema: { $ref: "schemas/moderation.json" }, require: { role: ["moderator", "admin"] } };
  }
}

const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "2000" },
      reloads: { type: "string", default: "5" },
      keep: { type: "boolean", default: false },
    },
  });
  const timings = await timeBigPolicy({
    events: Number(values.events),
    reloads: Number(values.reloads),
    ...(values.keep
      ? {
          keep: async (dir: string) => {
            const { cp, mkdtemp } = await import("node:fs/promises");
            const kept = await mkdtemp(`${dir}-kept-`);
            await cp(dir, kept, { recursive: true });
            process.stderr.write(`policy kept in ${kept}\n`);
          },
        }
      : {}),
  });
  process.stdout.write(
    `${JSON.stringify(
      {
        ...timings,
        reloadMedianMs: median([...timings.reloadMs]),
        reloadCpuMedianMs: median([...timings.reloadCpuMs]),
      },
      null,
      2,
    )}\n`,
  );
  process.exit(0);
}
