/**
 * The command line: `sockguard validate [files...] [--format text|json|github] [--strict] [--root DIR]`,
 * `sockguard types|asyncapi FILE [--out F]`,
 * `sockguard doctor [dir] [--format ...] [--strict] [--advisories FILE]`, `--help`, `--version`. Exit status 0 when every file is valid, 1 when one is not, 2 for bad usage
 * or a file that cannot be read.
 */
import { parseArgs } from "node:util";
import { doctorCommand } from "./doctor.js";
import {
  COMMAND_HELP,
  DOCTOR_HELP,
  EXPLAIN_HELP,
  TEST_HELP,
  TYPES_HELP,
  VALIDATE_HELP,
  ASYNCAPI_HELP,
} from "./usage.js";
import { generateCommand, type Generator } from "./generate-command.js";
import { explainCase } from "./explain-command.js";
import { TEST_FORMATS, runTests, type TestFormat } from "./test-command.js";
import { packageVersion } from "./version.js";
import { OUTPUT_FORMATS, validateFiles, type OutputFormat } from "./validate.js";
import type { CliIo } from "./cli-io.js";

export type { CliIo } from "./cli-io.js";

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/**
 * Runs the command for `args` (without `node` and the script); resolves to the exit status.
 *
 * @example
 * const status = await runCli(["validate", "policies/chat.yaml", "--format", "json"], io);
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: "string", short: "f" },
        strict: { type: "boolean" },
        advisories: { type: "string" },
        root: { type: "string" },
        coverage: { type: "boolean" },
        policy: { type: "string" },
        origin: { type: "string" },
        transport: { type: "string" },
        tls: { type: "boolean" },
        namespace: { type: "string" },
        issuer: { type: "string" },
        claims: { type: "string" },
        event: { type: "string" },
        args: { type: "string" },
        "coverage-min": { type: "string" },
        out: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (error) {
    return usageError(io, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, ...files] = positionals;

  if (values.version) {
    io.stdout(`${packageVersion()}\n`);
    return EXIT_VALID;
  }
  if (command === undefined || command === "help") {
    if (values.help || command === "help") {
      io.stdout(COMMAND_HELP);
      return EXIT_VALID;
    }
    return usageError(io, "no command given");
  }
  if (command === "test") return testCommand(files, values, io);
  if (command === "explain") {
    if (values.help) {
      io.stdout(EXPLAIN_HELP);
      return EXIT_VALID;
    }
    if (files.length > 1) return usageError(io, "explain takes at most one case file");
    return explainCase(files[0], values, io);
  }
  const generator = GENERATORS[command];
  if (generator) {
    if (values.help) {
      io.stdout(generator.help);
      return EXIT_VALID;
    }
    const format = values.format ?? "text";
    if (!isOutputFormat(format)) {
      return usageError(io, `--format must be one of ${OUTPUT_FORMATS.join(", ")}, not "${format}"`);
    }
    if (files.length !== 1) return usageError(io, `${command} takes one policy file`);
    const out = values.out;
    return generateCommand(
      generator.generate,
      files[0]!,
      out === undefined ? { format } : { format, out },
      io,
    );
  }
  if (values.out !== undefined) return usageError(io, "--out is an option of types and asyncapi");
  if (command !== "validate" && command !== "doctor") return usageError(io, `unknown command "${command}"`);
  if (values.help) {
    io.stdout(command === "doctor" ? DOCTOR_HELP : VALIDATE_HELP);
    return EXIT_VALID;
  }
  const format = values.format ?? "text";
  if (!isOutputFormat(format)) {
    return usageError(io, `--format must be one of ${OUTPUT_FORMATS.join(", ")}, not "${format}"`);
  }
  if (values.root !== undefined && command !== "validate")
    return usageError(io, "--root is an option of validate");
  if (command === "doctor") {
    if (files.length > 1) return usageError(io, "doctor checks one directory");
    const options = { format, strict: values.strict ?? false };
    return doctorCommand(
      files[0] ?? ".",
      values.advisories === undefined ? options : { ...options, advisories: values.advisories },
      io,
    );
  }
  if (values.advisories !== undefined) return usageError(io, "--advisories is an option of doctor");
  if (files.length === 0) return usageError(io, "validate needs at least one policy file");
  const validateOptions = { format, strict: values.strict ?? false };
  return validateFiles(
    files,
    values.root === undefined ? validateOptions : { ...validateOptions, root: values.root },
    io,
  );
}

function testCommand(
  paths: readonly string[],
  values: { format?: string; help?: boolean; coverage?: boolean; "coverage-min"?: string },
  io: CliIo,
): Promise<number> | number {
  if (values.help) {
    io.stdout(TEST_HELP);
    return EXIT_VALID;
  }
  const format = values.format ?? "text";
  if (!(TEST_FORMATS as readonly string[]).includes(format)) {
    return usageError(io, `--format must be one of ${TEST_FORMATS.join(", ")}, not "${format}"`);
  }
  const min = values["coverage-min"];
  const coverageMin = min === undefined ? undefined : Number(min);
  if (coverageMin !== undefined && !(coverageMin >= 0 && coverageMin <= 100)) {
    return usageError(io, "--coverage-min must be a percentage from 0 to 100");
  }
  return runTests(
    paths,
    {
      format: format as TestFormat,
      coverage: values.coverage ?? false,
      ...(coverageMin === undefined ? {} : { coverageMin }),
    },
    io,
  );
}

/** The commands that generate a document from one policy; each generator is loaded only when asked for. */
const GENERATORS: Readonly<Record<string, { readonly generate: Generator; readonly help: string }>> = {
  types: {
    generate: async (loaded, source) =>
      (await import("../generate/typescript.js")).generateTypes(loaded, source),
    help: TYPES_HELP,
  },
  asyncapi: {
    generate: async (loaded, source) =>
      (await import("../generate/asyncapi.js")).generateAsyncApi(loaded, source),
    help: ASYNCAPI_HELP,
  },
};

function isOutputFormat(format: string): format is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(format);
}

function usageError(io: CliIo, problem: string): number {
  io.stderr(`sockguard: ${problem}\nRun "sockguard --help" for usage.\n`);
  return EXIT_USAGE;
}
