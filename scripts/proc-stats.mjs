// What the benchmark scripts read about a broker's processes from /proc (Linux), and a wait for its port.
import {readdirSync, readFileSync} from 'node:fs'
import {connect} from 'node:net'

/** f(), or fallback when it throws (a process that exited between two reads). */
export function safe(f, fallback) { try { return f() } catch { return fallback } }

/** The process and its descendants. */
export function processTree(pid) {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    for (const t of safe(() => readdirSync(`/proc/${out[i]}/task`), [])) {
      for (const c of safe(() => readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8'), '').split(' ').filter(Boolean)) out.push(Number(c))
    }
  }
  return out
}

/** utime + stime of a process (all its threads), in clock ticks (100 per second); 0 once it is gone. */
export function cpuTicks(pid) {
  const stat = safe(() => readFileSync(`/proc/${pid}/stat`, 'utf8'), '')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0)
}

/** VmRSS of a process in kB; 0 once it is gone. */
export function rssKb(pid) { return Number(/VmRSS:\s+(\d+)/.exec(safe(() => readFileSync(`/proc/${pid}/status`, 'utf8'), ''))?.[1] ?? 0) }

/** Resolves once something accepts TCP connections on 127.0.0.1:port (at most `tries` attempts, `everyMs` apart). */
export async function waitConnectable(port, tries = 300, everyMs = 100) {
  for (let i = 0; i < tries; i++) {
    if (await new Promise((resolve) => { const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) }).on('error', () => resolve(false)) })) return
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`nothing listens on ${port}`)
}
