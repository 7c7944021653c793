/**
 * The soak's rows and verdict: counters per row, latency percentiles of the row's events, the
 * server's sample, and the heap's growth after warm-up as a least-squares slope in MB a minute.
 */
import { linearFit, percentile } from "../stats.js";
import type { ServerSample } from "./soak-server.js";

/** What the clients counted since the start. */
export interface LoadCounters {
  sent: number;
  acked: number;
  refused: number;
  validRefused: number;
  invalidAdmitted: number;
  unanswered: number;
  renewals: number;
  expired: number;
  churned: number;
  /** Connects refused, and sockets that dropped without the guard or the soak meaning it. */
  connectRefused: number;
  unexpectedDisconnects: number;
}

export function emptyCounters(): LoadCounters {
  return {
    sent: 0,
    acked: 0,
    refused: 0,
    validRefused: 0,
    invalidAdmitted: 0,
    unanswered: 0,
    renewals: 0,
    expired: 0,
    churned: 0,
    connectRefused: 0,
    unexpectedDisconnects: 0,
  };
}

const COLUMNS = [
  ["time", 6],
  ["clients", 7],
  ["sent", 8],
  ["acked", 8],
  ["refused", 8],
  ["valid-ref", 9],
  ["inv-adm", 7],
  ["unans", 5],
  ["p50-ms", 6],
  ["p99-ms", 6],
  ["heap-MB", 7],
  ["rss-MB", 6],
  ["fds", 5],
  ["loop-p99", 8],
  ["reloads", 7],
  ["failed", 6],
  ["renew", 6],
  ["expired", 7],
  ["churn", 6],
] as const;

/** The header line of the rows. */
export function header(): string {
  return COLUMNS.map(([name, width]) => name.padStart(width)).join(" ");
}

/** One row: counters since the start, latency over `latenciesMs` (the row's events), and the sample. */
export function row(
  elapsedSeconds: number,
  clients: number,
  counters: LoadCounters,
  latenciesMs: ArrayLike<number>,
  sample: ServerSample,
): string {
  const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  const cells = [
    `${Math.round(elapsedSeconds)}s`,
    clients,
    counters.sent,
    counters.acked,
    counters.refused,
    counters.validRefused,
    counters.invalidAdmitted + sample.violations,
    counters.unanswered,
    percentile(latenciesMs, 50).toFixed(1),
    percentile(latenciesMs, 99).toFixed(1),
    mb(sample.heapAfterGcBytes),
    mb(sample.rssBytes),
    sample.openFds,
    sample.loopDelayP99Ms.toFixed(1),
    sample.reloads,
    sample.reloadsFailed,
    counters.renewals,
    counters.expired,
    counters.churned,
  ];
  return cells.map((cell, index) => String(cell).padStart(COLUMNS[index]![1])).join(" ");
}

/** A heap sample: seconds since the load began, and the heap after GC in bytes. */
export interface HeapPoint {
  readonly seconds: number;
  readonly bytes: number;
}

/** The least-squares line through the points: MB a minute, and the correlation r. */
export interface HeapTrend {
  readonly mbPerMinute: number;
  readonly r: number;
  readonly points: number;
  readonly spanSeconds: number;
}

/**
 * The heap's trend over `points` (undefined for fewer than two).
 *
 * @example
 * heapTrend([{ seconds: 0, bytes: 0 }, { seconds: 60, bytes: 2 ** 20 }])?.mbPerMinute; // 1
 */
export function heapTrend(points: readonly HeapPoint[]): HeapTrend | undefined {
  if (points.length < 2) return undefined;
  const { slope, r } = linearFit(
    points.map((point) => point.seconds / 60),
    points.map((point) => point.bytes / 2 ** 20),
  );
  return {
    mbPerMinute: slope,
    r,
    points: points.length,
    spanSeconds: points.at(-1)!.seconds - points[0]!.seconds,
  };
}
