// Handles on the shards: worker threads, or (workers: 0) shards in the caller's thread.
import {Worker} from 'node:worker_threads'
import {Shard} from './shard.js'
import type {ShardCommand, ShardPlan} from './shard-protocol.js'

export interface ShardHandle {
  call<T = unknown>(command: ShardCommand): Promise<T>
  terminate(): Promise<void>
}

export function inlineShard(plan: ShardPlan): ShardHandle {
  const shard = new Shard(plan)
  return {
    call: <T>(command: ShardCommand) => shard.handle(command) as Promise<T>,
    terminate: async () => {},
  }
}

export function workerShard(plan: ShardPlan): ShardHandle {
  const worker = startWorker(plan)
  const pending = new Map<number, {resolve: (v: unknown) => void; reject: (e: Error) => void}>()
  let nextId = 1
  let dead: Error | undefined
  const failAll = (error: Error) => {
    dead ??= error
    for (const p of pending.values()) p.reject(error)
    pending.clear()
  }
  worker.on('message', (m: {id: number; ok: boolean; value?: unknown; error?: string}) => {
    const p = pending.get(m.id)
    if (!p) return
    pending.delete(m.id)
    if (m.ok) p.resolve(m.value)
    else p.reject(new Error(`bench worker ${plan.shard}: ${m.error}`))
  })
  worker.on('error', (e) => failAll(new Error(`bench worker ${plan.shard} failed: ${e.stack ?? e.message}`)))
  worker.on('exit', (code) => failAll(new Error(`bench worker ${plan.shard} exited (${code})`)))
  return {
    call: <T>(command: ShardCommand) => new Promise<T>((resolve, reject) => {
      if (dead) return reject(dead)
      const id = nextId++
      pending.set(id, {resolve: resolve as (v: unknown) => void, reject})
      worker.postMessage({id, command})
    }),
    terminate: async () => {
      dead ??= new Error('terminated')
      await worker.terminate()
    },
  }
}

/** dist/bench/worker.js when built; from the TypeScript sources (tests under tsx), worker.ts through tsx's loader. */
function startWorker(plan: ShardPlan): Worker {
  const url = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url)
  if (!import.meta.url.endsWith('.ts')) return new Worker(url, {workerData: plan})
  const tsx = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsx)}).then(({register}) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(boot, {eval: true, workerData: plan})
}
