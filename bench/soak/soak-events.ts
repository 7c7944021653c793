/**
 * The events soak clients send, valid and invalid against the soak policy, and the check the
 * server's handler makes by hand of everything that reaches it (so an event the guard should have
 * refused is caught where the app would see it).
 */

/** One event to send: its name, its arguments, and whether the policy admits it. */
export interface SoakEvent {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly valid: boolean;
}

/** A random number in [0, 1). */
export type Random = () => number;

/**
 * A seeded generator (mulberry32): the same seed gives the same run of choices.
 *
 * @example
 * const random = seededRandom(7);
 * random(); // always the same first number for seed 7
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function integer(random: Random, below: number): number {
  return Math.floor(random() * below);
}

const WORDS = ["hello", "soak", "ping", "a note", "ünïcödé", "emoji 🙂", "", "x".repeat(64)];

/** An event the soak policy admits. */
export function validEvent(random: Random): SoakEvent {
  if (random() < 0.5) return { name: "note", args: [{ text: pick(random, WORDS) }], valid: true };
  return { name: "move", args: [integer(random, 100), integer(random, 100)], valid: true };
}

const INVALID: readonly (readonly [string, readonly unknown[]])[] = [
  ["note", [{ text: "x".repeat(65) }]], // too long
  ["note", [{ text: 5 }]], // wrong type
  ["note", [{ text: "hi", extra: true }]], // an undeclared property
  ["note", ["just a string"]],
  ["note", []], // a missing argument
  ["note", [{ text: "hi" }, "one too many"]],
  ["move", [100, 0]], // out of range
  ["move", [1.5, 2]], // not an integer
  ["move", [1]],
  ["unlisted", [{ text: "hi" }]], // an undeclared event
  ["constructor", []],
  ["sockguard:other", []], // a reserved name
];

/** An event the soak policy refuses. */
export function invalidEvent(random: Random): SoakEvent {
  const [name, args] = pick(random, INVALID);
  return { name, args, valid: false };
}

/** The handler's own check of what reached it (the ack callback already taken off). */
export function admissible(name: string, args: readonly unknown[]): boolean {
  if (name === "note") {
    const [value, ...rest] = args;
    return (
      rest.length === 0 &&
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length === 1 &&
      typeof (value as { text?: unknown }).text === "string" &&
      [...(value as { text: string }).text].length <= 64
    );
  }
  if (name === "move") {
    return (
      args.length === 2 &&
      args.every((value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 99)
    );
  }
  return false;
}
