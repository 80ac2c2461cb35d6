// In-process cluster nodes for the session tests: a Broker with a RedisStore (sessions loaded one by
// one) and a RedisSessionDirectory, on a free port, sharing one redis-server.
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import mqtt, {type IClientOptions} from 'mqtt'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import {RedisStore} from '../../src/cluster/redis-store.js'
import {RedisSessionDirectory} from '../../src/cluster/session-directory.js'

export const PREFIX = 'midge-test'

export interface Node {
  readonly id: string
  readonly broker: Broker
  readonly store: RedisStore
  readonly directory: RedisSessionDirectory
  readonly url: string
  stop(): Promise<void>
}

/** The nodes a test considers alive (what part 1's heartbeats will tell at merge). */
export class Liveness {
  readonly up = new Set<string>()
  readonly isNodeAlive = async (nodeId: string): Promise<boolean> => this.up.has(nodeId)
}

export async function startNode(redisUrl: string, id: string, liveness: Liveness): Promise<Node> {
  const store = await RedisStore.open({redis: redisUrl, prefix: PREFIX, nodeId: id, loadAll: false})
  const directory = await RedisSessionDirectory.start({store, isNodeAlive: liveness.isNodeAlive, releaseTimeoutMs: 20_000})
  const broker = createBroker({store, sessions: directory})
  await broker.restore()
  const address = await broker.listen({port: 0})
  liveness.up.add(id)
  let stopped: Promise<void> | undefined
  return {
    id, broker, store, directory, url: `mqtt://127.0.0.1:${address.port}`,
    stop: () => (stopped ??= (async () => {
      liveness.up.delete(id)
      await broker.close()
      await directory.close()
      await store.close()
    })()),
  }
}

/** A node in a child process, to be killed with SIGKILL (nothing of it runs after). */
export interface ChildNode {
  readonly id: string
  readonly url: string
  kill(): Promise<void>
}

export async function startChildNode(redisUrl: string, id: string, liveness: Liveness): Promise<ChildNode> {
  const script = fileURLToPath(new URL('./session-node-process.ts', import.meta.url))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, redisUrl, PREFIX, id], {stdio: ['ignore', 'pipe', 'inherit']})
  const lines = createInterface({input: child.stdout!})
  const [line] = await Promise.race([
    once(lines, 'line') as Promise<[string]>,
    once(child, 'exit').then(([code]) => { throw new Error(`the node process exited (${String(code)}) before it listened`) }),
  ])
  const {port} = JSON.parse(line) as {port: number}
  liveness.up.add(id)
  return {
    id, url: `mqtt://127.0.0.1:${port}`,
    async kill() {
      liveness.up.delete(id)
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** Connects with the `mqtt` package; resolves with the client, its CONNACK's session present flag and what it receives. */
export async function connect(url: string, options: IClientOptions): Promise<{client: mqtt.MqttClient; sessionPresent: boolean; inbox: Inbox}> {
  const client = mqtt.connect(url, {reconnectPeriod: 0, connectTimeout: 20_000, ...options})
  const box = inbox(client)
  const connack = await new Promise<{sessionPresent: boolean}>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
  return {client, sessionPresent: connack.sessionPresent, inbox: box}
}

export interface Inbox {
  readonly messages: Array<{topic: string; payload: string; qos: number}>
  wait(n: number): Promise<void>
}

/** Collects the messages a client receives; `wait(n)` resolves once n arrived. */
export function inbox(client: mqtt.MqttClient): Inbox {
  const messages: Array<{topic: string; payload: string; qos: number}> = []
  let waiters: Array<() => void> = []
  client.on('message', (topic, payload, packet) => {
    messages.push({topic, payload: payload.toString(), qos: packet.qos})
    const w = waiters
    waiters = []
    for (const f of w) f()
  })
  return {
    messages,
    async wait(n: number) {
      while (messages.length < n) await new Promise<void>((resolve) => waiters.push(resolve))
    },
  }
}

export async function end(client: mqtt.MqttClient): Promise<void> {
  await client.endAsync()
}
