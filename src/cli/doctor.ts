/**
 * `sockguard doctor [dir]`: the Socket.IO stack installed under `dir` (the working directory by
 * default) against the advisory data, offline. Exit 1 when an installed copy is known to be
 * vulnerable (or, with `--strict`, when there is any warning), 0 otherwise, 2 for bad usage, an
 * advisory file that cannot be used, or a directory with nothing installed.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { AdvisoryFileError } from "../doctor/advisories.js";
import { NothingInstalledError, runDoctor } from "../doctor/doctor.js";
import { displayPath } from "../policy/display-path.js";
import { formatDoctor } from "./format-doctor.js";
import type { CliIo } from "./run.js";
import type { OutputFormat } from "./validate.js";

export interface DoctorCliOptions {
  readonly format: OutputFormat;
  readonly strict: boolean;
  /** A newer advisory file, relative to the working directory. */
  readonly advisories?: string;
}

/**
 * Runs doctor on `dir` (relative to `io.cwd`), writes the report, resolves to the exit status.
 *
 * @example
 * const status = await doctorCommand(".", { format: "github", strict: false }, io);
 */
export async function doctorCommand(dir: string, options: DoctorCliOptions, io: CliIo): Promise<number> {
  const root = resolve(io.cwd, dir);
  const show = (path: string): string => displayPath(path, io.cwd);
  try {
    if (!(await stat(root)).isDirectory()) return failure(io, `${show(root)} is not a directory`);
  } catch {
    return failure(io, `${show(root)}: no such directory`);
  }
  let report;
  try {
    report = await runDoctor(root, {
      ...(options.advisories === undefined ? {} : { advisories: resolve(io.cwd, options.advisories) }),
      showPath: show,
    });
  } catch (error) {
    if (error instanceof AdvisoryFileError || error instanceof NothingInstalledError) {
      return failure(io, error.message);
    }
    throw error;
  }
  io.stdout(formatDoctor(report, options.format, { strict: options.strict, show }));
  if (report.findings.length > 0) return 1;
  return options.strict && report.lints.length > 0 ? 1 : 0;
}

function failure(io: CliIo, problem: string): number {
  io.stderr(`sockguard doctor: ${problem}\n`);
  return 2;
}
