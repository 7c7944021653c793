/**
 * The benchmark's helper processes (servers and load generators), from the parent's side: fork a
 * TypeScript entry through tsx, send it commands over IPC and await the answers. Every helper
 * exits when its parent goes away (see `serveCommands`), so an interrupted run leaves nothing
 * behind.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The benchmark server process (see server/server-main.ts). */
export const SERVER_ENTRY = new URL("../server/server-main.ts", import.meta.url);
/** The load-generator process (see client/client-main.ts). */
export const CLIENT_ENTRY = new URL("../client/client-main.ts", import.meta.url);

/** A request sent to a helper process. */
export interface CommandMessage {
  readonly id: number;
  readonly command: string;
  readonly args: unknown;
}

/** A helper's answer to one request. */
export type ReplyMessage =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

export interface ForkOptions {
  /** Extra Node.js flags, e.g. `--expose-gc`. */
  readonly nodeFlags?: readonly string[];
  /** Environment added to the parent's. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A running helper process.
 *
 * @example
 * const server = await HelperProcess.start(new URL("../server/server-main.ts", import.meta.url));
 * const { url } = await server.call<{ url: string }>("start", { variant: "plain" });
 * await server.stop();
 */
export class HelperProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextId = 0;
  #exited = false;
  /** Resolves when the process exits, however it does: a crash shows here before any command fails. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.on("message", (message: ReplyMessage) => {
      const waiter = this.#pending.get(message.id);
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(message.error));
    });
    child.on("exit", (code, signal) => {
      this.#exited = true;
      const reason = new Error(`a benchmark helper exited (code ${code}, signal ${signal})`);
      for (const waiter of this.#pending.values()) waiter.reject(reason);
      this.#pending.clear();
    });
  }

  /** Forks `entry` (a .ts file) under tsx and waits until it is ready for commands. */
  static async start(entry: URL, options: ForkOptions = {}): Promise<HelperProcess> {
    const child = fork(fileURLToPath(entry), [], {
      execArgv: ["--import", "tsx", ...(options.nodeFlags ?? [])],
      env: { ...process.env, ...options.env },
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const helper = new HelperProcess(child);
    await helper.call("ping", null);
    return helper;
  }

  /** The helper's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends `command` and resolves with the helper's answer (rejects with its error). */
  call<T>(command: string, args: unknown): Promise<T> {
    if (this.#exited) return Promise.reject(new Error("the benchmark helper has exited"));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      const message: CommandMessage = { id, command, args };
      this.#child.send(message, (error) => {
        if (!error) return;
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  /** Asks the helper to exit, and kills it if it has not within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.call("exit", null).catch(() => undefined);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Stops every helper, in parallel; never throws. */
export async function stopAll(helpers: readonly HelperProcess[]): Promise<void> {
  await Promise.all(helpers.map((helper) => helper.stop().catch(() => undefined)));
}
