/**
 * Whether a process that closed everything it opened exits on its own: mocha runs without `--exit`,
 * but a test process has other handles open, so the check runs a script in a child process that
 * prints `closed` once it has closed its resources, and waits for the child to exit.
 */
import { spawn } from "node:child_process";

export interface ChildExit {
  /** The exit code, or "still running" when the child had not exited `graceMs` after `closed` (it was then killed). */
  readonly code: number | null | "still running";
  /** How long after printing `closed` the child exited. */
  readonly exitedAfterMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the TypeScript `script` (with tsx) with `args`, waits for it to print `closed`, then gives it
 * `graceMs` to exit. Rejects when it exits before printing `closed`, or never prints it within
 * `startupMs` (tsx compiles on the fly, so startup may be slow on a busy machine; the exit may not).
 *
 * @example
 * const exit = await runUntilClosed(fileURLToPath(new URL("./x.script.ts", import.meta.url)), [dir]);
 * assert.equal(exit.code, 0, exit.stderr);
 */
export async function runUntilClosed(
  script: string,
  args: readonly string[],
  { startupMs = 15_000, graceMs = 3_000 } = {},
): Promise<ChildExit> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const closedAt = await new Promise<number>((resolve, reject) => {
    const timeout = setTimeout(() => {
      child.kill();
      reject(new Error(`never printed "closed"; stderr: ${stderr}`));
    }, startupMs);
    child.stdout.on("data", () => {
      if (stdout.includes("closed\n")) {
        clearTimeout(timeout);
        resolve(Date.now());
      }
    });
    void exited.then(() => {
      clearTimeout(timeout);
      if (!stdout.includes("closed\n")) reject(new Error(`exited before closing; stderr: ${stderr}`));
    });
  });
  let lingering: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exited,
    new Promise<"still running">(
      (resolve) => (lingering = setTimeout(() => resolve("still running"), graceMs)),
    ),
  ]);
  clearTimeout(lingering);
  const exitedAfterMs = Date.now() - closedAt;
  if (code === "still running") {
    child.kill();
    await exited;
  }
  return { code, exitedAfterMs, stdout, stderr };
}
