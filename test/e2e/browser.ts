/**
 * Debian's Chromium, driven by playwright-core, for the browser tests.
 *
 * Where Chromium is not installed the browser tests are skipped with one loud line saying how to
 * install it, so `npm test` still runs everything else; with `SOCKGUARD_E2E=required` (set by CI)
 * a missing browser fails the run instead.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // The tests only talk to 127.0.0.1; a proxy from the environment must never sit in between.
  "--no-proxy-server",
];

const MISSING_LINE =
  `sockguard e2e: SKIPPED — Chromium not found at ${CHROMIUM_PATH}; ` +
  "install it with: apt-get install -y chromium";

let missingReported = false;

/**
 * Call first in a browser suite's `before` hook: skips the suite when Chromium is missing (printing
 * the loud line once for the whole run), or fails it when `SOCKGUARD_E2E=required`.
 *
 * @example
 * before(async function () {
 *   requireChromiumOrSkip(this);
 *   browser = await launchChromium();
 * });
 */
export function requireChromiumOrSkip(context: Mocha.Context): void {
  if (existsSync(CHROMIUM_PATH)) return;
  if (process.env.SOCKGUARD_E2E === "required") {
    throw new Error(
      `SOCKGUARD_E2E=required but Chromium is not at ${CHROMIUM_PATH}; install it with: apt-get install -y chromium`,
    );
  }
  if (!missingReported) {
    missingReported = true;
    console.log(`\n  !!! ${MISSING_LINE}\n`);
  }
  context.skip();
}

/** A running headless Chromium with its own fresh profile directory, removed on close. */
export interface LaunchedChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh `--user-data-dir`, so no state leaks between runs.
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.context.newPage();
 * await browser.close();
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), "sockguard-e2e-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  // Every wait on a page is bounded, well inside mocha's own timeout.
  context.setDefaultTimeout(8_000);
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
