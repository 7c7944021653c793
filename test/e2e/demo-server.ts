/**
 * Runs the chat demo the way a user does, `node examples/chat/server.js`, as a child process on a
 * free loopback port, and reads what it prints: its `decision {json}` lines are the guard's
 * decisions, its `reload` lines the policy reloads.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Decision } from "../../src/decisions.js";
import { launchChromium, requireChromiumOrSkip, type LaunchedChromium } from "./browser.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEMO_ENTRY = join(REPO_ROOT, "examples/chat/server.js");
const BUILT_LIBRARY = join(REPO_ROOT, "dist/index.js");
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 20;

/** A port that was free on 127.0.0.1 a moment ago (the demo needs it before it starts: the policy reads it). */
export async function findFreePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port from the probe server");
  return address.port;
}

/**
 * Waits until `check` returns a value other than `undefined`, polling; fails after `timeoutMs`
 * with `what` and, when given, `context()` in the message.
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined,
  context?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${context ? `\n${context()}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** A copy of the repository's `policies/` directory in a temporary directory, for tests that edit it. */
export interface PolicyCopy {
  /** The copy of `policies/chat.yaml`. */
  readonly chatPolicy: string;
  remove(): Promise<void>;
}

/** Copies `policies/` (with any schema files beside the policy) so a test never edits the real one. */
export async function copyPolicies(): Promise<PolicyCopy> {
  const dir = await mkdtemp(join(tmpdir(), "sockguard-e2e-policies-"));
  await cp(join(REPO_ROOT, "policies"), dir, { recursive: true });
  return {
    chatPolicy: join(dir, "chat.yaml"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The demo server as a child process. */
export interface DemoServer {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly origin: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every line the demo printed so far, stdout and stderr interleaved as they arrived. */
  readonly lines: readonly string[];
  /** The guard's decisions printed so far. */
  decisions(): Decision[];
  /** Waits for the `index`-th (0-based) decision matching `match`, so repeated decisions can be told apart. */
  waitForDecision(
    match: (decision: Decision) => boolean,
    index?: number,
    timeoutMs?: number,
  ): Promise<Decision>;
  /** Waits for a printed line matching `match`, at or after line number `from`. */
  waitForLine(match: (line: string) => boolean, from?: number, timeoutMs?: number): Promise<string>;
  /** Stops the demo (SIGTERM, then SIGKILL if it does not exit in time). */
  stop(): Promise<void>;
}

/** How to start the demo. */
export interface DemoServerOptions {
  /** The policy file the demo guards itself with (`SOCKGUARD_POLICY`); the repository's by default. */
  readonly policy?: string;
}

const DECISION_PREFIX = "decision ";

/**
 * Starts `examples/chat/server.js` on a free port and waits until it listens.
 *
 * @example
 * const demo = await startDemoServer();
 * await page.goto(`${demo.origin}/`);
 * await demo.stop();
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  if (!existsSync(BUILT_LIBRARY)) {
    throw new Error(
      `${BUILT_LIBRARY} is missing: the demo imports the built package; run \`npm run build\` first`,
    );
  }
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = { ...process.env, CHAT_PORT: String(port) };
  if (options.policy) env.SOCKGUARD_POLICY = options.policy;
  else delete env.SOCKGUARD_POLICY;

  const child = spawn(process.execPath, [DEMO_ENTRY], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on("line", (line) => lines.push(line));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = () => `demo output:\n${lines.map((line) => `  | ${line}`).join("\n")}`;

  const decisions = (): Decision[] =>
    lines
      .filter((line) => line.startsWith(DECISION_PREFIX))
      .map((line) => JSON.parse(line.slice(DECISION_PREFIX.length)) as Decision);

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const server: DemoServer = {
    origin: `http://127.0.0.1:${port}`,
    port,
    child,
    lines,
    decisions,
    waitForDecision: (match, index = 0, timeoutMs = 8_000) =>
      waitUntil("a decision of the guard", timeoutMs, () => decisions().filter(match)[index], output),
    waitForLine: (match, from = 0, timeoutMs = 8_000) =>
      waitUntil("a line from the demo", timeoutMs, () => lines.slice(from).find(match), output),
    stop,
  };

  try {
    await waitUntil(
      "the demo to listen",
      START_TIMEOUT_MS,
      () => {
        if (child.exitCode !== null)
          throw new Error(`the demo exited with code ${child.exitCode}\n${output()}`);
        return lines.some((line) => line.startsWith("listening on ")) ? true : undefined;
      },
      output,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return server;
}

/** The demo server and a Chromium to visit it, shared by the tests of one suite. */
export interface DemoInChromium {
  readonly demo: DemoServer;
  readonly browser: LaunchedChromium;
}

/**
 * Call inside a browser suite's `describe`: registers hooks that skip the suite without Chromium,
 * start the demo (with the options `demoOptions` returns, asked for only once Chromium is known to
 * be there) and Chromium before the tests, and stop both after them. Hooks the suite registers
 * later run after these.
 *
 * @example
 * const chat = useDemoInChromium();
 * it("loads", async () => {
 *   const page = await chat.browser.context.newPage();
 *   await page.goto(`${chat.demo.origin}/`);
 * });
 */
export function useDemoInChromium(
  demoOptions: () => DemoServerOptions | Promise<DemoServerOptions> = () => ({}),
): DemoInChromium {
  let demo: DemoServer | undefined;
  let browser: LaunchedChromium | undefined;
  before(async function () {
    requireChromiumOrSkip(this);
    this.timeout(45_000);
    demo = await startDemoServer(await demoOptions());
    browser = await launchChromium();
  });
  after(async function () {
    this.timeout(15_000);
    await browser?.close();
    await demo?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} starts in the suite's before hook`);
    return value;
  };
  return {
    get demo() {
      return started(demo, "the demo");
    },
    get browser() {
      return started(browser, "Chromium");
    },
  };
}
