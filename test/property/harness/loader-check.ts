/**
 * What the loader must do with any input: answer (never throw), within its limits, with every
 * problem positioned inside the file it names (or at the file itself), never printing an
 * environment value, and never calling valid a policy that has an unknown key.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";
import { MAX_DIAGNOSTICS } from "../../../src/policy/diagnostic-collector.js";
import { FUZZ_ENV, type LoaderCase } from "./policy-mutations.js";

/** The loader's promise: every input answered within this (the 2 s, with room for a loaded CI machine). */
export const LOADER_ANSWER_MS = 2_000;

export interface LoaderOutcome {
  readonly ms: number;
  readonly valid: boolean;
}

/** A directory for cases, reused: each case overwrites its files. */
export async function caseDirectory(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "sockguard-property-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes `input` into `dir`, loads it, and throws an Error naming the broken property.
 * `timeBoundMs` is the bound asserted (a test run under load passes a more generous one than 2 s).
 *
 * @example
 * await checkLoaderCase(generated, dir, 10_000);
 */
export async function checkLoaderCase(
  input: LoaderCase,
  dir: string,
  timeBoundMs: number,
): Promise<LoaderOutcome> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(input.files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  const policyPath = join(dir, "policy.yaml");
  await writeFile(policyPath, input.policy);

  const started = performance.now();
  const result = await loadPolicy(policyPath, { env: FUZZ_ENV });
  const ms = performance.now() - started;
  const fail = (problem: string): never => {
    throw new Error(`${problem}\n  case: ${input.label}`);
  };
  if (ms > timeBoundMs) fail(`the loader took ${Math.round(ms)} ms (bound ${timeBoundMs} ms)`);
  if (result.diagnostics.length > MAX_DIAGNOSTICS + 1) fail(`${result.diagnostics.length} diagnostics`);

  const texts = new Map<string, string>();
  for (const diagnostic of result.diagnostics) {
    const shown = `${diagnostic.file}:${diagnostic.line}:${diagnostic.col}: ${diagnostic.message}`;
    if (diagnostic.message.includes(FUZZ_ENV.SG_FUZZ_SET)) fail(`an environment value was printed: ${shown}`);
    if (
      /\bat .*\.(ts|js):\d+/.test(diagnostic.message) ||
      diagnostic.message.includes("could not be checked")
    )
      fail(`an internal failure: ${shown}`);
    if (diagnostic.line === 0 && diagnostic.col === 0) continue;
    if (!texts.has(diagnostic.file)) {
      const bytes = await readFile(diagnostic.file).catch(() => Buffer.alloc(0));
      texts.set(diagnostic.file, bytes.toString("utf8").replace(/^\uFEFF/, ""));
    }
    const lines = texts.get(diagnostic.file)!.replace(/\n$/, "").split("\n");
    if (diagnostic.line < 1 || diagnostic.line > lines.length) fail(`line outside the file: ${shown}`);
    const length = [...lines[diagnostic.line - 1]!.replace(/\r$/, "")].length;
    // Columns count UTF-16 units like editors' LSP positions; a line's length in code points is at most that.
    const units = lines[diagnostic.line - 1]!.replace(/\r$/, "").length;
    if (diagnostic.col < 1 || diagnostic.col > Math.max(1, units, length))
      fail(`column outside its line (${units} characters): ${shown}`);
  }
  if (input.unknownKey && result.policy !== undefined) fail("a policy with an unknown key was called valid");
  return { ms, valid: result.policy !== undefined };
}
