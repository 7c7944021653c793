// PLACEHOLDER: the loader of the policy-language issue replaces this file whole.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { createHash } from "node:crypto";
import { parse } from "yaml";
import type { Policy } from "./types.js";
import type { PolicyLoadResult } from "./loaded.js";

/** Loads and checks a policy file. Never throws on bad input. */
export async function loadPolicy(path: string): Promise<PolicyLoadResult> {
  const file = resolve(path);
  const text = await readFile(file, "utf8");
  const policy = parse(text) as Policy;
  return {
    policy,
    resources: { schemas: new Map(), keyFiles: new Map(), baseDir: dirname(file) },
    diagnostics: [],
    files: [file],
    version: createHash("sha256").update(text).digest("hex"),
  };
}

/** Checks a policy given as an object, relative paths resolving against `baseDir` (default: cwd). */
export async function checkPolicyObject(value: unknown, baseDir = process.cwd()): Promise<PolicyLoadResult> {
  return {
    policy: value as Policy,
    resources: { schemas: new Map(), keyFiles: new Map(), baseDir },
    diagnostics: [],
    files: [],
    version: createHash("sha256").update(JSON.stringify(value)).digest("hex"),
  };
}
