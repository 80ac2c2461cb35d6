import type {Packet} from '../../codec/index.js'

/** One line per packet for -d, in mosquitto's debug style, on stderr. */
export function tracePacket(direction: 'in' | 'out', p: Packet): void {
  const verb = direction === 'in' ? 'received' : 'sending'
  process.stderr.write(`${verb} ${p.cmd.toUpperCase()}${details(p)}\n`)
}

function details(p: Packet): string {
  switch (p.cmd) {
    case 'connect': return ` (v${p.protocolVersion}, c${p.clean ? 1 : 0}, k${p.keepalive}, id '${p.clientId}')`
    case 'connack': return ` (${p.reasonCode ?? p.returnCode ?? 0})`
    case 'publish': return ` (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${p.messageId ?? 0}, '${p.topic}', ... (${p.payload.length} bytes))`
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp': return ` (Mid: ${p.messageId}, RC:${p.reasonCode ?? 0})`
    case 'subscribe': return ` (Mid: ${p.messageId}${p.subscriptions.map((s) => `, Topic: ${s.topic}, QoS: ${s.qos}`).join('')})`
    case 'suback': return ` (Mid: ${p.messageId}, ${(p.granted as number[]).join(', ')})`
    case 'unsubscribe': return ` (Mid: ${p.messageId}, ${p.unsubscriptions.join(', ')})`
    case 'unsuback': return ` (Mid: ${p.messageId})`
    case 'disconnect': return p.reasonCode === undefined ? '' : ` (${p.reasonCode})`
    default: return ''
  }
}
