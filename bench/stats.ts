/** Summaries of measured samples. */

/**
 * The `p`-th percentile (0–100) of `samples`, nearest rank; NaN for no samples.
 *
 * @example
 * percentile([5, 1, 3], 50); // 3
 */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The median of `samples`. */
export function median(samples: ArrayLike<number>): number {
  return percentile(samples, 50);
}

/** All `parts` in one array. */
export function concatSamples(parts: readonly Float64Array[]): Float64Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** `value / base`, or NaN when either is missing. */
export function ratio(value: number, base: number): number {
  return Number.isFinite(value) && Number.isFinite(base) && base !== 0 ? value / base : Number.NaN;
}

/**
 * The median of `values[i] / base[i]`: a ratio between two variants measured in the same rounds,
 * each round's pair run back to back, so slow drift in outside load cancels out.
 *
 * @example
 * pairedRatio([90, 45], [100, 50]); // 0.9
 */
export function pairedRatio(values: readonly number[], base: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(values.length, base.length); i++) ratios.push(ratio(values[i]!, base[i]!));
  return median(ratios.filter(Number.isFinite));
}

/**
 * The order in which variants run in round `round`: rotated each round, so no variant always
 * runs first (after an idle pause) or last (after the others warmed the machine).
 */
export function rotation<T>(variants: readonly T[], round: number): T[] {
  const shift = round % variants.length;
  return [...variants.slice(shift), ...variants.slice(0, shift)];
}

/** A least-squares line: its slope (y per x) and the correlation r (0 when either varies not at all). */
export interface LinearFit {
  readonly slope: number;
  readonly r: number;
}

/**
 * The least-squares line through the points `(xs[i], ys[i])`.
 *
 * @example
 * linearFit([0, 1, 2], [1, 3, 5]); // { slope: 2, r: 1 }
 */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return { slope: 0, r: 0 };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]! / n;
    my += ys[i]! / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return { slope: sxx === 0 ? 0 : sxy / sxx, r: sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy) };
}
