/** The package's version, read from its package.json (beside src/ in the repository, beside dist/ when installed). */
import { readFileSync } from "node:fs";

/**
 * @example
 * packageVersion(); // "0.1.0"
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}
