// The /metrics families of a broker's bridges, one sample per bridge (label bridge="NAME").
import type {MetricFamily} from '../metric-family.js'
import type {Bridge} from './bridge.js'

export function bridgeFamilies(bridges: readonly Bridge[]): MetricFamily[] {
  if (bridges.length === 0) return []
  const family = (name: string, help: string, type: MetricFamily['type'], read: (b: Bridge) => number): MetricFamily =>
    ({name, help, type, samples: bridges.map((b) => ({labels: {bridge: b.config.name}, value: read(b)}))})
  return [
    family('midge_bridge_connected', 'Whether the bridge is connected to its remote broker (1) or not (0).', 'gauge', (b) => b.stats.connected),
    family('midge_bridge_messages_in_total', 'Messages received from the remote broker and published locally.', 'counter', (b) => b.stats.messagesIn),
    family('midge_bridge_messages_out_total', 'Local messages sent to the remote broker (QoS 1/2: acknowledged by it).', 'counter', (b) => b.stats.messagesOut),
    family('midge_bridge_queued_messages', 'Messages waiting for the remote broker (held by the bridge and queued in its local session).', 'gauge', (b) => b.queued),
    family('midge_bridge_messages_dropped_total', 'Messages the bridge did not pass on (QoS 0 while the remote was down, refused, too large).', 'counter', (b) => b.stats.dropped),
    family('midge_bridge_reconnects_total', 'Connections to the remote broker after the first.', 'counter', (b) => b.stats.reconnects),
    family('midge_bridge_connect_failures_total', 'Connection attempts that failed.', 'counter', (b) => b.stats.connectFailures),
  ]
}
