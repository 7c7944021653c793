/** The CLI run in this process, its output captured: for tests that need no child process. */
import { runCli } from "../../src/cli/run.js";

export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `sockguard ARGS` in `cwd` without colour; resolves to its exit status and output.
 *
 * @example
 * const { status, stdout } = await runCliCaptured(["validate", "p.yaml"], dir);
 */
export async function runCliCaptured(args: readonly string[], cwd: string): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    cwd,
    colour: false,
  });
  return { status, stdout, stderr };
}
