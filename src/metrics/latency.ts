/**
 * Fixed latency buckets, shared by the Prometheus histogram of every worker and the fleet
 * windows in Redis. Fixed bounds are what make counts mergeable: any number of workers and
 * windows add up bucket by bucket, and a quantile is read from the sum.
 */

/** Upper bounds of the latency buckets in ms; a last bucket, `+Inf`, takes the rest. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000,
];

/** The label of the bucket a latency falls in: its upper bound in ms, or `+Inf`. */
export function latencyBucket(ms: number): string {
  const bound = LATENCY_BOUNDS_MS.find((b) => ms <= b);
  return bound === undefined ? '+Inf' : String(bound);
}

/** Counts per bucket label (as {@link latencyBucket} names them), not cumulative. */
export type LatencyCounts = Readonly<Record<string, number>>;

/**
 * The `q` quantile (0–1) of bucketed latencies, in ms, interpolated linearly inside the bucket
 * it falls in, as Prometheus's `histogram_quantile` does: the first bucket starts at 0, and a
 * quantile in the `+Inf` bucket is its lower bound (the largest finite bound). `null` when
 * there is nothing counted. Labels that are not bucket bounds are ignored.
 * @see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
 */
export function latencyQuantile(counts: LatencyCounts, q: number): number | null {
  const bounds = [...LATENCY_BOUNDS_MS, Number.POSITIVE_INFINITY];
  const perBucket = bounds.map((b) => counts[Number.isFinite(b) ? String(b) : '+Inf'] ?? 0);
  const total = perBucket.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let below = 0;
  for (const [i, n] of perBucket.entries()) {
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (rank - below)) / n;
    }
    below += n;
  }
  return bounds.at(-2)!;
}
