/**
 * The advisory data: the file shipped in the package (`advisories/socketio-stack.json`) or a newer
 * one in the same format, checked against `schemas/advisories.schema.json` and with every range and
 * version checked by semver, so a typo in a range is an error rather than an advisory that never
 * matches.
 */
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import semver from "semver";

/** The packages of the Socket.IO stack that doctor looks for. */
export const STACK_PACKAGES = [
  "socket.io",
  "engine.io",
  "socket.io-parser",
  "socket.io-adapter",
  "ws",
  "engine.io-client",
  "socket.io-client",
] as const;
export type StackPackage = (typeof STACK_PACKAGES)[number];

export type Severity = "low" | "moderate" | "high" | "critical";

export interface Advisory {
  readonly ids: readonly string[];
  readonly package: StackPackage;
  /** node-semver ranges; a version in any of them is affected. */
  readonly affected: readonly string[];
  readonly fixed: readonly string[];
  readonly severity: Severity;
  readonly summary: string;
  readonly source: string;
}

export interface AdvisoryFile {
  readonly format: 1;
  /** YYYY-MM-DD */
  readonly compiled: string;
  readonly sources: readonly { readonly name: string; readonly url: string }[];
  readonly notes?: readonly string[];
  readonly advisories: readonly Advisory[];
}

/** The advisory file shipped in the package (beside src/ and dist/). */
export const SHIPPED_ADVISORIES = new URL("../../advisories/socketio-stack.json", import.meta.url);
const SCHEMA = new URL("../../schemas/advisories.schema.json", import.meta.url);

/** An advisory file that cannot be read or is not in the format; `message` says which and why. */
export class AdvisoryFileError extends Error {
  override readonly name = "AdvisoryFileError";
}

let validator: (((data: unknown) => boolean) & { errors?: unknown }) | undefined;

/**
 * Reads and checks an advisory file (the shipped one by default). Rejects with an
 * {@link AdvisoryFileError} naming the file and the first problem.
 *
 * @example
 * const data = await loadAdvisories();             // the shipped file
 * const newer = await loadAdvisories("advisories.json");
 */
export async function loadAdvisories(file: string | URL = SHIPPED_ADVISORIES): Promise<AdvisoryFile> {
  const shown = file instanceof URL ? "the shipped advisory file" : file;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : "it cannot be read";
    throw new AdvisoryFileError(`${shown}: ${why}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AdvisoryFileError(`${shown}: not valid JSON`);
  }
  const problem = whyNotAdvisoryFile(data);
  if (problem) throw new AdvisoryFileError(`${shown}: ${problem}`);
  return data as AdvisoryFile;
}

/**
 * Why `data` is not an advisory file (the first problem found), or `undefined` when it is one:
 * the JSON Schema first, then what a schema cannot say (semver ranges and versions).
 *
 * @example
 * whyNotAdvisoryFile({ format: 1 }); // "/ must have required property 'compiled'"
 */
export function whyNotAdvisoryFile(data: unknown): string | undefined {
  validator ??= new Ajv2020({ strict: true, allErrors: false }).compile(
    JSON.parse(readFileSync(SCHEMA, "utf8")) as object,
  );
  if (!validator(data)) {
    const [first] = (validator.errors ?? []) as { instancePath: string; message?: string }[];
    return `${first?.instancePath || "/"} ${first?.message ?? "is not in the advisory format"}`;
  }
  const file = data as AdvisoryFile;
  for (const [index, advisory] of file.advisories.entries()) {
    for (const range of advisory.affected) {
      if (semver.validRange(range) === null)
        return `/advisories/${index}/affected: "${range}" is not a semver range`;
    }
    for (const version of advisory.fixed) {
      if (semver.valid(version) === null)
        return `/advisories/${index}/fixed: "${version}" is not a semver version`;
    }
  }
  return undefined;
}
