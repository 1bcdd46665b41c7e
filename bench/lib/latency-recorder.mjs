/**
 * Exact latency percentiles with sub-millisecond resolution. autocannon's own histogram
 * stores whole milliseconds, which on loopback (p50 of 1–5 ms) hides differences of tens
 * of percent; its per-response event carries the hrtime duration as a float, so we keep
 * every value and sort once at the end. 10 s at 100k req/s is 8 MB: fine for a bench.
 */

/** Collects latencies in ms (floats) and answers percentiles over them. */
export class LatencyRecorder {
  #values = new Float64Array(1 << 16);
  #count = 0;
  #sorted = null;

  /** Add one latency in milliseconds. */
  record(ms) {
    if (this.#count === this.#values.length) {
      // Doubling keeps recording amortised O(1) on the load generator's hot path.
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#count++] = ms;
    this.#sorted = null;
  }

  /** Number of values recorded. */
  get count() {
    return this.#count;
  }

  /** Nearest-rank percentile `p` (0–100) in ms; null when nothing was recorded. */
  percentile(p) {
    if (this.#count === 0) return null;
    this.#sorted ??= this.#values.slice(0, this.#count).sort();
    const rank = Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1));
    return this.#sorted[rank];
  }

  /** Arithmetic mean in ms; null when nothing was recorded. */
  mean() {
    if (this.#count === 0) return null;
    let sum = 0;
    for (let i = 0; i < this.#count; i++) sum += this.#values[i];
    return sum / this.#count;
  }
}
