/** The CLI run in this process (src/cli/run.ts's runCli), its output captured, in a given directory. */
import { runCli } from "../../src/cli/run.js";

export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * @example
 * const { status, stdout } = await runCliIn(dir, ["types", "policy.yaml", "--out", "events.ts"]);
 */
export async function runCliIn(cwd: string, args: readonly string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, {
    cwd,
    colour: false,
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  });
  return { status, stdout, stderr };
}
