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

  /** Registers `task` to run after the test; tasks run last-registered first. */
  add(task: () => unknown): void {
    this.#tasks.push(task);
  }

  /** Runs every registered task (each once), even when some fail; rethrows the first failure. */
  async run(): Promise<void> {
    const tasks = this.#tasks.reverse();
    this.#tasks = [];
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
