// Latency histograms (HdrHistogram, 3 significant digits, microseconds), mergeable across worker
// threads through their compressed encoding.
import * as hdr from 'hdr-histogram-js'

export interface LatencySummary {
  /** Samples recorded. */
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

/** Where the distribution is read: evenly in "nines" (90, 99, 99.9...), with the body in between. */
export const DISTRIBUTION_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999, 100]

const HIGHEST = 3_600_000_000 // one hour, in µs; larger values are clamped

export class LatencyHistogram {
  private readonly h: hdr.Histogram
  /** Samples that came out negative (clocks of two hosts out of step), recorded as 0. */
  negative = 0

  constructor(histogram?: hdr.Histogram) {
    this.h = histogram ?? hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST, numberOfSignificantValueDigits: 3, autoResize: false})
  }

  record(micros: number): void {
    if (micros < 0) {
      this.negative++
      micros = 0
    }
    this.h.recordValue(micros >= HIGHEST ? HIGHEST : Math.round(micros))
  }

  get count(): number { return this.h.totalCount }

  /** Forgets every sample (the per-interval histograms of --json-stream). */
  reset(): void {
    this.h.reset()
    this.negative = 0
  }

  add(other: LatencyHistogram): void {
    if (other.count > 0) this.h.add(other.h)
    this.negative += other.negative
  }

  /** Value at a percentile (0-100), in µs. */
  percentile(p: number): number { return this.h.getValueAtPercentile(p) }

  /** undefined when nothing was recorded. */
  summary(): LatencySummary | undefined {
    const h = this.h
    if (h.totalCount === 0) return undefined
    return {
      count: h.totalCount, min: h.getValueAtPercentile(0),
      mean: Math.round(h.mean * 10) / 10, p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90),
      p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue,
    }
  }

  /** The latency at each of DISTRIBUTION_PERCENTILES: [percentile, µs] pairs (the report's distribution chart). */
  distribution(): Array<[number, number]> {
    return DISTRIBUTION_PERCENTILES.map((p) => [p, p === 100 ? this.h.maxValue : this.h.getValueAtPercentile(p)])
  }

  encode(): {data: string; negative: number} {
    return {data: hdr.encodeIntoCompressedBase64(this.h), negative: this.negative}
  }

  static decode(encoded: {data: string; negative: number}): LatencyHistogram {
    const h = new LatencyHistogram(hdr.decodeFromCompressedBase64(encoded.data))
    h.negative = encoded.negative
    return h
  }
}
