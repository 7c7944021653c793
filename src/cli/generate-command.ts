/**
 * `sockguard types FILE [--out F]` and `sockguard asyncapi FILE [--out F]`: load the policy exactly
 * as the guard would, and write what is generated from it to `--out` (or stdout). A policy with
 * errors generates nothing: its problems are reported as `validate` reports them (exit 1; 2 when
 * the file cannot be read).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { hasErrors } from "../policy/diagnostic.js";
import { displayPath } from "../policy/display-path.js";
import { loadPolicy } from "../policy/load.js";
import type { PolicyLoadResult } from "../policy/loaded.js";
import type { CliIo } from "./cli-io.js";
import { validateFiles, type OutputFormat } from "./validate.js";

/** Turns a valid policy into a document; `source` is the policy's path as the user gave it. */
export type Generator = (loaded: PolicyLoadResult, source: string) => Promise<string>;

/**
 * @example
 * const status = await generateCommand(generateTypes, "policies/chat.yaml", { format: "text", out: "src/events.ts" }, io);
 */
export async function generateCommand(
  generate: Generator,
  file: string,
  options: { readonly format: OutputFormat; readonly out?: string },
  io: CliIo,
): Promise<number> {
  const path = resolve(io.cwd, file);
  const loaded = await loadPolicy(path);
  if (!loaded.policy || hasErrors(loaded.diagnostics)) {
    return validateFiles([file], { format: options.format, strict: false }, io);
  }
  let output: string;
  try {
    output = await generate(loaded, displayPath(path, io.cwd));
  } catch (error) {
    io.stderr(
      `sockguard: nothing was generated: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  if (options.out === undefined) {
    io.stdout(output);
    return 0;
  }
  const out = resolve(io.cwd, options.out);
  try {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, output);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.stderr(`sockguard: cannot write ${options.out}${typeof code === "string" ? ` (${code})` : ""}\n`);
    return 2;
  }
  const shown = displayPath(out, io.cwd);
  io.stdout(options.format === "json" ? `${JSON.stringify({ written: shown })}\n` : `wrote ${shown}\n`);
  return 0;
}
