/**
 * Parsers for the policy's units: sizes (`512`, `64KiB`, `1MB`), durations (`30s`, `5m`, `1h`)
 * and rates (`20/1m`). Each returns `undefined` for text it does not accept, so the checker can
 * point at the value and the compiler can trust what the checker accepted.
 */

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bytes for a size: a non-negative integer, or a number with `B`, `KB`, `MB`, `GB` (powers of 10) or `KiB`, `MiB`, `GiB`. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$/.exec(value);
  if (!match) return undefined;
  const bytes = Number(match[1]) * SIZE_UNITS[match[2] ?? ""]!;
  return Number.isSafeInteger(Math.round(bytes)) ? Math.round(bytes) : undefined;
}

/**
 * Milliseconds for a duration: `250ms`, `30s`, `5m`, `1h`, `1d`; a bare number is seconds. A
 * duration too long to count in milliseconds (`1e306`, or 400 digits of seconds) is not one: jose refuses an
 * infinite clock tolerance, so accepting it would reject every token.
 */
export function parseDuration(value: number | string): number | undefined {
  let ms: number;
  if (typeof value === "number") {
    ms = value * 1000;
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
    if (!match) return undefined;
    ms = Number(match[1]) * DURATION_UNITS[match[2]!]!;
  }
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A rate `COUNT/DURATION` (`20/1m`, `5/10s`; `20/m` means `20/1m`). */
export function parseRate(value: string): { count: number; windowMs: number } | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) return undefined;
  const count = Number(match[1]);
  const windowMs = Number(match[2] ?? "1") * DURATION_UNITS[match[3]!]!;
  // A count or window too large to be a number would switch the limit off without saying so.
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isFinite(windowMs) || windowMs <= 0)
    return undefined;
  return { count, windowMs };
}
