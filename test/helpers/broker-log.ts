// The JSON log lines a `midge broker start` child prints on stderr, searchable as they arrive.
import type {MidgeBroker} from './midge-broker.js'

export interface BrokerLog {
  /** Every line so far, parsed. */
  readonly lines: Array<Record<string, unknown>>
  /** Resolves with the first line (seen so far or to come) whose msg matches; fails after 20 s. */
  line(msg: RegExp): Promise<Record<string, unknown>>
}

export function watchLog(broker: MidgeBroker): BrokerLog {
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<{msg: RegExp; resolve: (l: Record<string, unknown>) => void}> = []
  let buffer = ''
  broker.child.stderr!.on('data', (d: Buffer | string) => {
    buffer += d.toString()
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    for (const text of parts) {
      if (!text.startsWith('{')) continue
      const entry = JSON.parse(text) as Record<string, unknown>
      lines.push(entry)
      for (const w of [...waiters]) {
        if (w.msg.test(String(entry.msg))) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry) }
      }
    }
  })
  return {
    lines,
    line(msg) {
      const seen = lines.find((l) => msg.test(String(l.msg)))
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${msg}`)), 20_000)
        waiters.push({msg, resolve: (l) => { clearTimeout(timer); resolve(l) }})
      })
    },
  }
}
