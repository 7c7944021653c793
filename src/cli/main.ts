#!/usr/bin/env node
/**
 * The `sockguard` command. Everything it does lives in `run.ts`; this file only connects it to the
 * process: arguments in, output to stdout and stderr, the exit status out.
 */
import { runCli } from "./run.js";

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
});
// exitCode, not exit(): the output is flushed before the process ends.
process.exitCode = exitCode;
