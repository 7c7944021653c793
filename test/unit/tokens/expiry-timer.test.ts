import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { MAX_TIMER_DELAY_MS, scheduleAt, timerDelayUntil } from "../../../src/enforce/expiry-timer.js";
import { isTokenExpired, tokenDeadline } from "../../../src/decide/token-expiry.js";
import type { CompiledAuth, Identity } from "../../../src/compile/types.js";

const DAY_MS = 86_400_000;

describe("expiry timers", () => {
  describe("timerDelayUntil (the clamp)", () => {
    const now = 1_700_000_000_000;

    it("is the time left for a near deadline", () => {
      assert.equal(timerDelayUntil(now + 1500, now), 1500);
    });

    it("clamps a 30-day deadline below 2^31-1 ms, where setTimeout would overflow and fire at once", () => {
      assert.equal(MAX_TIMER_DELAY_MS, 2 ** 31 - 1);
      assert.equal(timerDelayUntil(now + 30 * DAY_MS, now), MAX_TIMER_DELAY_MS);
      assert.equal(timerDelayUntil(now + MAX_TIMER_DELAY_MS + 1, now), MAX_TIMER_DELAY_MS);
      assert.equal(timerDelayUntil(now + MAX_TIMER_DELAY_MS, now), MAX_TIMER_DELAY_MS);
    });

    it("is 0 for a deadline already past, and for a deadline that is not a number", () => {
      assert.equal(timerDelayUntil(now - 5000, now), 0);
      assert.equal(timerDelayUntil(Number.NaN, now), 0);
    });
  });

  describe("scheduleAt", () => {
    it("calls the function once the deadline is reached, not before", async () => {
      const started = Date.now();
      let firedAt = 0;
      const call = scheduleAt(started + 60, () => {
        firedAt = Date.now();
      });
      await sleep(20);
      assert.equal(firedAt, 0);
      await sleep(120);
      call.cancel();
      assert.ok(firedAt >= started + 60, `fired ${firedAt - started} ms after scheduling`);
    });

    it("does not fire a 30-day deadline now", async () => {
      let fired = false;
      const call = scheduleAt(Date.now() + 30 * DAY_MS, () => {
        fired = true;
      });
      await sleep(50);
      call.cancel();
      assert.equal(fired, false);
    });

    it("does not call a cancelled function; cancelling twice is harmless", async () => {
      let fired = false;
      const call = scheduleAt(Date.now() + 20, () => {
        fired = true;
      });
      call.cancel();
      call.cancel();
      await sleep(60);
      assert.equal(fired, false);
    });

    it("fires a past deadline promptly", async () => {
      let fired = false;
      scheduleAt(Date.now() - 1000, () => {
        fired = true;
      });
      await sleep(20);
      assert.equal(fired, true);
    });

    it("never keeps the process alive (its timers are unref'd)", async () => {
      const module = fileURLToPath(new URL("../../../src/enforce/expiry-timer.ts", import.meta.url));
      const script = `const { scheduleAt } = await import(${JSON.stringify(module)});
        scheduleAt(Date.now() + 20000, () => console.log("fired"));
        scheduleAt(Date.now() + 40 * 86400000, () => console.log("fired"));`;
      const started = Date.now();
      const { code, output } = await new Promise<{ code: number | null; output: string }>(
        (resolve, reject) => {
          const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
            stdio: ["ignore", "pipe", "pipe"],
          });
          let output = "";
          child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
          child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
          // A ref'd timer would hold the child for 20 s: stop it well before, and fail.
          const stop = setTimeout(() => child.kill(), 8_000);
          child.on("error", reject);
          child.on("exit", (exitCode) => {
            clearTimeout(stop);
            resolve({ code: exitCode, output });
          });
        },
      );
      assert.equal(code, 0, output);
      assert.equal(output.includes("fired"), false);
      assert.ok(Date.now() - started < 8_000, "the process exited long before the first deadline");
    });
  });

  describe("token deadlines", () => {
    const auth = { clockToleranceSec: 5 } as CompiledAuth;
    const identity = { issuer: "idp", iss: "https://idp", claims: {}, expiresAt: 1_000_000 } as Identity;

    it("is exp plus the clock tolerance", () => {
      assert.equal(tokenDeadline(identity, auth), 1_005_000);
    });

    it("counts a token as expired from the deadline on, not before", () => {
      assert.equal(isTokenExpired(identity, auth, 1_004_999), false);
      assert.equal(isTokenExpired(identity, auth, 1_005_000), true);
    });
  });
});
