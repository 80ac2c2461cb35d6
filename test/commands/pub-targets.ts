// What pub.test.ts and pub-bulk-*.test.ts share: the brokers under test and a subscriber on the library client.
import {connect, type Message} from '../../src/client/index.js'
import {collect, spawnMidge} from '../helpers/cli.js'
import {hasMosquitto, startMosquitto} from '../helpers/mosquitto.js'

export interface Target { host: string; port: number; stop(): Promise<void> }
export const BROKERS: Array<{name: string; skip: boolean; start(): Promise<Target>}> = [
// unbounded queues: a subscriber slower than a 100k-message burst must not lose messages to the queue limit
  {name: 'mosquitto', skip: !hasMosquitto(), start: () => startMosquitto({config: ['max_queued_messages 0']})},
  {name: 'midge', skip: false, start: async () => {
    const {createBroker} = await import('../../src/index.js') // loaded here: a broken broker fails only its own tests
    const broker = createBroker({maxQueuedMessages: 0})
    const {port} = await broker.listen({host: '127.0.0.1', port: 0})
    return {host: '127.0.0.1', port, stop: () => broker.close()}
  }},
]

/** Subscribes with the library client and collects what arrives. */
export async function receiver(t: {host: string; port: number}, filter = '#') {
  const client = await connect({host: t.host, port: t.port})
  const messages: Message[] = []
  let wake: () => void = () => {}
  client.onMessage((m) => { messages.push(m); wake() })
  await client.subscribe([{topic: filter, qos: 2}])
  return {
    messages,
    async take(n: number, timeoutMs = 20_000): Promise<Message[]> {
      if (messages.length < n) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs)
          wake = () => { if (messages.length >= n) { clearTimeout(timer); resolve() } }
        })
      }
      return messages.splice(0, n)
    },
    close: () => client.disconnect(),
  }
}

/** runMidge with stdin input whose reader may stop early (its EPIPE is then the child's exit to report, not ours). */
export function runWithInput(args: string[], input: string, timeoutMs = 120_000) {
  const child = spawnMidge(args)
  child.stdin!.on('error', () => {})
  child.stdin!.end(input)
  return collect(child, timeoutMs)
}
