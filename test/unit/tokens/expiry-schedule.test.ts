import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { queryObjects } from "node:v8";
import { ARM_AHEAD_MS, ExpirySchedule } from "../../../src/enforce/expiry-schedule.js";

/** Node's internal timer-list class (one list per distinct duration), reached through a timer. */
function timersListClass(): abstract new () => unknown {
  const probe = setTimeout(() => undefined, 1);
  const list = (probe as unknown as { _idlePrev: { constructor: abstract new () => unknown } })._idlePrev;
  clearTimeout(probe);
  return list.constructor;
}

const HOUR_MS = 3_600_000;

describe("ExpirySchedule (one timer for every token expiry)", () => {
  it("calls each function when its deadline is reached, earliest first, whatever the order they were armed in", async () => {
    const schedule = new ExpirySchedule();
    const start = Date.now();
    const fired: number[] = [];
    for (const offset of [80, 20, 60, 40, 0]) schedule.at(start + offset, () => fired.push(offset));
    await sleep(140);
    assert.deepEqual(fired, [0, 20, 40, 60, 80]);
    assert.equal(schedule.size, 0);
  });

  it("runs nothing that was cancelled, including the earliest, and empties as entries are cancelled", async () => {
    const schedule = new ExpirySchedule();
    const start = Date.now();
    const fired: number[] = [];
    const calls = [10, 20, 30, 40, 50].map((offset) => schedule.at(start + offset, () => fired.push(offset)));
    calls[0]!.cancel();
    calls[2]!.cancel();
    calls[2]!.cancel();
    assert.equal(schedule.size, 3);
    await sleep(90);
    assert.deepEqual(fired, [20, 40, 50]);
    calls[1]!.cancel();
    assert.equal(schedule.size, 0);
  });

  it("keeps the heap ordered through thousands of random arms and cancels", async () => {
    const schedule = new ExpirySchedule();
    const start = Date.now();
    const fired: number[] = [];
    const live = new Map<number, { cancel(): void }>();
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) {
      const when = start + 30 + Math.floor(random() * 60);
      const id = i;
      live.set(
        id,
        schedule.at(when, () => fired.push(when)),
      );
      if (random() < 0.4) {
        const victim = Math.floor(random() * i);
        live.get(victim)?.cancel();
        live.delete(victim);
      }
    }
    const expected = live.size;
    await sleep(150);
    assert.equal(fired.length, expected);
    for (let i = 1; i < fired.length; i++) assert.ok(fired[i - 1]! <= fired[i]!, "fired in deadline order");
    assert.equal(schedule.size, 0);
  });

  it("goes on with the other deadlines when one function throws", async () => {
    const schedule = new ExpirySchedule();
    const start = Date.now();
    let ran = false;
    schedule.at(start, () => {
      throw new Error("listener bug");
    });
    schedule.at(start + 1, () => (ran = true));
    await sleep(30);
    assert.equal(ran, true);
  });

  it("leaves no hour-long timer list behind per socket that comes and goes, or per earliest deadline that leaves", () => {
    // Node 20 keeps a list whose timers were cleared until its duration passes: one per re-arm at a
    // new hour-long delay was the per-socket growth the soak found.
    const TimersList = timersListClass();
    const before = queryObjects(TimersList, { format: "count" });
    const schedule = new ExpirySchedule();
    const start = Date.now();
    for (let i = 0; i < 300; i++) schedule.at(start + HOUR_MS + i * 7, () => undefined).cancel();
    const calls = Array.from({ length: 300 }, (_, i) =>
      schedule.at(start + HOUR_MS + i * 7, () => undefined),
    );
    for (const call of calls) call.cancel();
    const after = queryObjects(TimersList, { format: "count" });
    assert.ok(after - before <= 2, `${after - before} timer lists were left behind`);
    assert.equal(schedule.size, 0);
  });

  it("reaches a deadline beyond its arming horizon by re-arming, and an earlier one armed later at once", async () => {
    const schedule = new ExpirySchedule();
    const start = Date.now();
    const fired: string[] = [];
    schedule.at(start + ARM_AHEAD_MS * 10, () => fired.push("far"));
    schedule.at(start + 30, () => fired.push("near"));
    await sleep(80);
    assert.deepEqual(fired, ["near"]);
    assert.equal(schedule.size, 1);
  });

  it("hands one shared function each deadline's subject and handle, so a caller can tell a stale call", async () => {
    const schedule = new ExpirySchedule();
    const start = Date.now();
    const seen: Array<[string, boolean]> = [];
    const current = new Map<string, { cancel(): void }>();
    const fire = (name: string, call: { cancel(): void }): void => {
      seen.push([name, current.get(name) === call]);
    };
    for (const name of ["a", "b"]) current.set(name, schedule.at(start + 20, fire, name));
    await sleep(60);
    assert.deepEqual(seen, [
      ["a", true],
      ["b", true],
    ]);
  });

  it("ignores a handle of another schedule, and keeps its own entries", async () => {
    const mine = new ExpirySchedule();
    const other = new ExpirySchedule();
    const start = Date.now();
    const fired: string[] = [];
    mine.at(start + 20, () => fired.push("mine"));
    const foreign = other.at(start + 20, () => fired.push("other"));
    mine.cancel(foreign);
    assert.equal(mine.size, 1);
    assert.equal(other.size, 1);
    await sleep(60);
    assert.deepEqual(fired.sort(), ["mine", "other"]);
  });
});
