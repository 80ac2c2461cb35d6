// One request/response exchange on a $CONTROL API, as mosquitto_ctrl does it: subscribe to the
// response topic, publish the request (QoS 1), wait for the first answer naming our command.
import type {MqttClient} from '../../client/index.js'
import {reasonName} from '../../codec/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

export interface ControlRequest {
  requestTopic: string
  responseTopic: string
  /** The commands array sent; the answer is matched by correlationData. */
  command: Record<string, unknown>
  timeoutMs: number
}

/** The response object to our command. CliError for a refused subscription/publish (14/13) or no answer in time (27). */
export async function controlRequest(client: MqttClient, r: ControlRequest): Promise<Record<string, unknown>> {
  const correlationData = `midge-${process.pid}-${Date.now()}`
  let timer: NodeJS.Timeout | undefined
  const answered = new Promise<Record<string, unknown>>((resolve) => {
    client.onMessage((m) => {
      if (m.topic !== r.responseTopic) return
      const found = matching(m.payload, correlationData)
      if (found) resolve(found)
    })
  })
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`no answer on ${r.responseTopic} within ${r.timeoutMs / 1000} s (is the dynamic security plugin loaded?)`, ExitCode.Timeout)), r.timeoutMs)
  })
  const lost = client.closed.then((error) => { throw error ?? new Error('connection closed') })
  try {
    return await Promise.race([exchange(client, r, correlationData, answered), timeout, lost])
  } finally {
    clearTimeout(timer)
  }
}

async function exchange(client: MqttClient, r: ControlRequest, correlationData: string, answered: Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const sub = await client.subscribe([{topic: r.responseTopic, qos: 1}])
  const code = sub.granted[0]
  if (code >= 0x80) throw new CliError(`subscription to ${r.responseTopic} refused: ${reasonName(code)} (does this user have the admin role?)`, ExitCode.SubscribeRefused)
  const payload = JSON.stringify({commands: [{...r.command, correlationData}]})
  const ack = await client.publish(r.requestTopic, payload, {qos: 1})
  if (ack.reasonCode >= 0x80) throw new CliError(`publish to ${r.requestTopic} refused: ${reasonName(ack.reasonCode)} (does this user have the admin role?)`, ExitCode.PublishRefused)
  return answered
}

/** Our response in a {"responses": [...]} payload, or undefined (someone else's, or not JSON). */
function matching(payload: Buffer, correlationData: string): Record<string, unknown> | undefined {
  try {
    const tree = JSON.parse(payload.toString('utf8')) as {responses?: unknown}
    if (!Array.isArray(tree.responses)) return undefined
    return tree.responses.find((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && (x as {correlationData?: unknown}).correlationData === correlationData)
  } catch {
    return undefined
  }
}
