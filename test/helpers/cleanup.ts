/**
 * Everything a test opens, closed after it: mocha runs without `--exit`, so a server, client or
 * temporary directory left open hangs the suite.
 *
 * @example
 * const cleanup = new Cleanup();
 * afterEach(() => cleanup.run());
 * cleanup.add(() => server.close());
 */
export class Cleanup {
  #tasks: Array<() => unknown> = [];
  #firstTasks: Array<() => unknown> = [];

  /** Registers `task` to run after the test; tasks run last-registered first. */
  add(task: () => unknown): void {
    this.#tasks.push(task);
  }

  /**
   * Registers `task` to run before every task registered with {@link add} (servers, so that their
   * clients are dropped by the server rather than leaving it waiting for them).
   */
  addFirst(task: () => unknown): void {
    this.#firstTasks.push(task);
  }

  /** Runs every registered task (each once), even when some fail; rethrows the first failure. */
  async run(): Promise<void> {
    const tasks = [...this.#firstTasks.reverse(), ...this.#tasks.reverse()];
    this.#tasks = [];
    this.#firstTasks = [];
    let failure: unknown;
    for (const task of tasks) {
      try {
        await task();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
