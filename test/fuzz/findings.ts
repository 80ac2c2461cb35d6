// Findings: a failing batch saved as hex (one JSON file per finding), replayed against a fresh broker,
// and made smaller by dropping connections and packets while the failure still happens.
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {runBatch} from './batch.js'
import type {BrokerSetup} from './broker-process.js'
import type {ConnectionScript} from './generate.js'
import {Target, type Failure} from './target.js'

export const FINDINGS_DIR = fileURLToPath(new URL('./findings', import.meta.url))

export interface Finding {
  kind: string
  detail: string
  seed: number
  batch: number
  setup: BrokerSetup
  /** The connections of the batch, each sent at once over its own socket, all of them concurrently. */
  connections: Array<{version: number; close: 'end' | 'destroy'; pipelined?: boolean; splits?: number[]; packets: string[]}>
  /** Set by hand once the cause is known: what it was and which commit fixed it. */
  diagnosis?: string
  minimized?: boolean
}

export function toScripts(f: Finding): ConnectionScript[] {
  return f.connections.map((c) => ({version: c.version as 3 | 4 | 5, close: c.close, pipelined: c.pipelined, splits: c.splits, packets: c.packets.map((h) => Buffer.from(h, 'hex'))}))
}

export function fromScripts(scripts: ConnectionScript[]): Finding['connections'] {
  return scripts.map((s) => ({version: s.version, close: s.close, pipelined: s.pipelined, ...(s.splits ? {splits: s.splits} : {}), packets: s.packets.map((p) => p.toString('hex'))}))
}

export function saveFinding(dir: string, f: Finding): string {
  mkdirSync(dir, {recursive: true})
  const file = join(dir, `${f.kind}-seed${f.seed}-batch${f.batch}.json`)
  writeFileSync(file, `${JSON.stringify(f, null, 1)}\n`)
  return file
}

export function loadFindings(dir = FINDINGS_DIR): Array<{file: string; finding: Finding}> {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort()
  } catch {
    return []
  }
  return names.map((n) => ({file: join(dir, n), finding: JSON.parse(readFileSync(join(dir, n), 'utf8')) as Finding}))
}

/**
 * Replays connections against a fresh broker (with its subscribers) and returns the failures of the
 * checks. The same concurrency as the fuzzer: every connection at once.
 */
export async function replay(setup: BrokerSetup, scripts: ConnectionScript[]): Promise<Failure[]> {
  const target = await Target.start(setup)
  try {
    await runBatch(target.port, scripts)
    return await target.check()
  } finally {
    await target.stop()
  }
}

/**
 * Drops connections (halves, then one by one), then packets within the connections left, keeping
 * each cut while a replay still fails with the same kind. Bounded by maxReplays (each starts a broker)
 * and by maxSeconds.
 */
export async function minimize(setup: BrokerSetup, scripts: ConnectionScript[], kind: string, maxReplays = 40, log: (s: string) => void = () => undefined, maxSeconds = 300): Promise<ConnectionScript[] | undefined> {
  let replays = 0
  const deadline = Date.now() + maxSeconds * 1000
  const fails = async (candidate: ConnectionScript[]) => {
    // out of time: no more replays (the loops below stop on the count)
    if (Date.now() > deadline) maxReplays = replays
    replays++
    return (await replay(setup, candidate)).some((f) => f.kind === kind)
  }
  if (!(await fails(scripts))) return undefined
  let current = scripts
  // connections: ddmin-style chunks
  for (let chunk = Math.ceil(current.length / 2); chunk >= 1 && replays < maxReplays; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let start = 0; start < current.length && replays < maxReplays && current.length > 1;) {
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)]
      if (candidate.length > 0 && await fails(candidate)) current = candidate
      else start += chunk
    }
    log(`minimise: ${current.length} connections after ${replays} replays`)
  }
  // packets, in the connections left, in chunks as above (the CONNECT, first, stays)
  for (let c = 0; c < current.length && replays < maxReplays; c++) {
    for (let chunk = Math.ceil((current[c].packets.length - 1) / 2); chunk >= 1 && replays < maxReplays; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
      for (let start = 1; start < current[c].packets.length && replays < maxReplays;) {
        const packets = [...current[c].packets.slice(0, start), ...current[c].packets.slice(start + chunk)]
        const candidate = current.map((s, k) => k === c ? {...s, packets} : s)
        if (await fails(candidate)) current = candidate
        else start += chunk
      }
    }
  }
  log(`minimise: ${current.length} connections, ${current.reduce((n, s) => n + s.packets.length, 0)} packets after ${replays} replays`)
  return current
}
