// The entry of a bench worker thread: one Shard, driven by the runner's commands.
import {parentPort, workerData} from 'node:worker_threads'
import {Shard} from './shard.js'
import type {ShardCommand, ShardPlan} from './shard-protocol.js'

const shard = new Shard(workerData as ShardPlan)
parentPort!.on('message', (message: {id: number; command: ShardCommand}) => {
  shard.handle(message.command).then(
    (value) => parentPort!.postMessage({id: message.id, ok: true, value}),
    (error: unknown) => parentPort!.postMessage({id: message.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error)}),
  )
})
