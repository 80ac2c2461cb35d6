// Parsing and formatting of the quantities bench deals in: durations, rates, sizes, microseconds.

/** Seconds from `10`, `10s`, `500ms`, `2m`, `1h` or `1.5s`. Throws a TypeError with a one-line message. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|min)?\s*$/i.exec(text)
  if (!m) throw new TypeError(`'${text}' is not a duration (e.g. 10s, 500ms, 2m)`)
  const n = Number(m[1])
  switch ((m[2] ?? 's').toLowerCase()) {
    case 'ms': return n / 1000
    case 'm':
    case 'min': return n * 60
    case 'h': return n * 3600
    default: return n
  }
}

const SI: Record<string, number> = {'': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9}

/** A count or rate: `50000`, `50k`, `1.5M`, `10k/s`. */
export function parseQuantity(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*(?:\/s)?\s*$/.exec(text)
  if (!m) throw new TypeError(`'${text}' is not a number (e.g. 50000, 50k, 1.5M)`)
  return Number(m[1]) * SI[m[2]]
}

/** Bytes from `256`, `1KB`/`1k`/`1KiB` (1024), `1MB`/`1M`/`1MiB`. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(text)
  if (!m) throw new TypeError(`'${text}' is not a size in bytes (e.g. 256, 1KB)`)
  const unit = (m[2] ?? 'b').toLowerCase()
  return Number(m[1]) * (unit === 'b' ? 1 : unit.startsWith('k') ? 1024 : 1024 * 1024)
}

/** Microseconds from a latency with a unit: `20ms`, `500us`, `500µs`, `1s`, `2000ns`. */
export function parseLatency(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)\s*$/.exec(text)
  if (!m) throw new TypeError(`'${text}' is not a latency with a unit (e.g. 20ms, 500us, 1s)`)
  const n = Number(m[1])
  return m[2] === 'ns' ? n / 1000 : m[2] === 'ms' ? n * 1000 : m[2] === 's' ? n * 1e6 : n
}

/** `181µs`, `3.90ms`, `1.23s`. */
export function formatMicros(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return '-'
  if (us < 1000) return `${Math.round(us)}µs`
  if (us < 10_000) return `${(us / 1000).toFixed(2)}ms`
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)}ms`
  return `${(us / 1e6).toFixed(2)}s`
}

/** `1,234,567`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** `123k`, `1.23M`, `950` (for status lines). */
export function formatShort(n: number): string {
  const a = Math.abs(n)
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e8 ? 0 : a >= 1e7 ? 1 : 2)}M`
  if (a >= 1e4) return `${(n / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`
  return String(Math.round(n))
}
