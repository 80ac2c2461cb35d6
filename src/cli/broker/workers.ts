import cluster, {type Worker} from 'node:cluster'
import {once} from 'node:events'
import {availableParallelism} from 'node:os'
import type {Logger} from '../../index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {aborted, shutdownSignal} from '../common/signals.js'

const WORKER_INDEX = 'MIDGE_WORKER_INDEX'

/** `--workers N|auto` as a number of processes (auto: the number of cores); throws a CliError (exit 17) otherwise. */
export function workerCount(value: string): number {
  if (value === 'auto') return availableParallelism()
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1024) throw new CliError(`--workers: ${JSON.stringify(value)} is not a number of processes (1 to 1024) or auto`, ExitCode.BrokerStartFailed)
  return Number(value)
}

/** The one-line refusal of --workers without a cluster. */
export const WORKERS_NEED_REDIS = '--workers needs a cluster to share sessions and routes between its processes: give --cluster redis://HOST:PORT (a local Redis: redis-server --port 6379, then --cluster redis://127.0.0.1:6379)'

/**
 * In a worker of --workers: this node's id (a given --node-id gets "-w{index}"). The channel to the
 * primary no longer keeps the process alive, so the worker exits once its broker has shut down.
 */
export function workerNodeId(nodeId: string | undefined): string | undefined {
  const index = process.env[WORKER_INDEX]
  if (index === undefined || cluster.isPrimary) return nodeId
  process.channel?.unref()
  return nodeId === undefined ? undefined : `${nodeId}-w${index}`
}

/** A worker's message to the primary: its listeners, announced by the primary once every worker sent them. */
const LISTENING = 'midge:listening'
type Announcements = Array<Record<string, unknown>>

/** In a worker of --workers: hands its listeners to the primary instead of announcing them; false elsewhere. */
export function reportListening(lines: Announcements): boolean {
  if (cluster.isPrimary || process.env[WORKER_INDEX] === undefined || process.send === undefined) return false
  process.send({type: LISTENING, lines})
  return true
}

/** Whether this process is the primary of --workers (it only forks and watches; the workers serve). */
export function isWorkersPrimary(workers: string | undefined): boolean {
  return workers !== undefined && cluster.isPrimary
}

/**
 * The primary of `--workers`: forks `count` copies of this command (node:cluster: they share the
 * listening ports, connections spread between them), announces the listeners once (`announce`: the
 * ready file, the "listening on" lines) when every worker listens, replaces a worker that dies, and on
 * SIGINT or SIGTERM stops them all and returns once they exited (a worker still running `graceMs` after
 * its SIGTERM is killed, with a line saying so). A worker that exits before it
 * listened stops the start: its exit code is the command's; so does an announcement that fails.
 */
export async function runWorkers(count: number, log: Logger, announce: (lines: Announcements) => Promise<void>, graceMs = 20_000): Promise<void> {
  const {signal, dispose} = shutdownSignal()
  let stopping = false
  let failed: number | undefined
  let startFailed = (): void => undefined
  const failure = new Promise<void>((resolve) => { startFailed = resolve })
  const live = new Set<Worker>()
  const ready = new Set<number>()
  let announced = false
  let announceError: unknown
  const fork = (index: number): Worker => {
    const worker = cluster.fork({[WORKER_INDEX]: String(index)})
    live.add(worker)
    let listening = false
    worker.once('listening', () => { listening = true })
    worker.on('message', (m: {type?: string; lines?: Announcements}) => {
      if (m?.type !== LISTENING || announced) return
      ready.add(index)
      if (ready.size < count) return
      announced = true
      announce(m.lines ?? []).catch((error: unknown) => {
        announceError = error
        startFailed()
      })
    })
    worker.once('exit', (code, sig) => {
      live.delete(worker)
      if (stopping) return
      if (!listening) {
        failed = code || ExitCode.BrokerStartFailed
        log.error({worker: index, code, signal: sig}, `worker ${index} exited before it listened; stopping`)
        return startFailed()
      }
      log.warn({worker: index, code, signal: sig}, `worker ${index} exited (${sig ?? `code ${code}`}); starting another`)
      fork(index)
    })
    return worker
  }
  const stop = (): void => {
    stopping = true
    for (const w of live) w.process.kill('SIGTERM')
  }
  // the workers accept on the shared socket themselves (faster to connect than node:cluster's default
  // round-robin through the primary, less even; see README "--workers"); NODE_CLUSTER_SCHED_POLICY=rr
  // picks round-robin
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE
  try {
    for (let i = 0; i < count; i++) fork(i)
    log.info({workers: count}, `started ${count} worker processes`)
    await Promise.race([aborted(signal), failure])
    stop()
    // a worker stuck past its own shutdown timeout (a wait that never ends) does not keep the primary: it is killed
    const stuck = setTimeout(() => {
      for (const w of live) {
        log.error({worker: w.id, pid: w.process.pid, graceMs}, `worker pid ${w.process.pid} did not stop within ${graceMs / 1000} s of SIGTERM; killing it`)
        w.process.kill('SIGKILL')
      }
    }, graceMs)
    await Promise.all([...live].map((w) => w.isDead() ? undefined : once(w, 'exit')))
    clearTimeout(stuck)
  } finally {
    dispose()
  }
  if (announceError !== undefined) throw announceError
  if (failed !== undefined) throw new CliError('a worker could not start (see its error above)', failed)
}
