// The messages a bridge carries, in both directions. Nothing is acknowledged before the other side
// has it: a local QoS 1/2 message is acked to the local broker (PUBACK/PUBREC) only once the remote
// acked it, and a remote one only once the local broker did. So an outage of either side loses
// nothing that was acknowledged: what the bridge holds unacked is sent again.
//
// Outgoing QoS 1/2 messages that arrive while the remote is down (or whose send was cut by a lost
// connection) wait in `held`, in order, and go out first when the remote is back. `held` is bounded by
// the local broker's in-flight window to the bridge (max_inflight_messages); beyond it the broker
// queues them in the bridge's local session (max_queued_messages, counted when dropped, and kept on
// disk with persistence). QoS 0 messages are dropped while the remote is down, as Mosquitto does.
import {ConnectionLostError, ClientClosedError, type MqttClient} from '../../client/index.js'
import type {Message} from '../../client/index.js'
import type {PublishProperties} from '../../codec/index.js'
import type {BridgeConfig} from './config.js'
import type {BridgeStats} from './stats.js'
import {localTopicFor, remoteTopicFor} from './topics.js'

export class Forwarder {
  /** Local QoS 1/2 messages not yet acked by the remote and not in flight to it. */
  private held: Array<{message: Message; via: MqttClient}> = []
  private remote: MqttClient | undefined
  /** The remote's socket buffer is full: the local side is paused until it drains. */
  private remoteFull = false
  /** Stop and restart reading from the local broker (backpressure: it then queues or drops as for any slow client). */
  pauseLocal: () => void = () => {}
  resumeLocal: () => void = () => {}
  /** Called on every message carried (lazy bridges stop after idle_timeout without any). */
  onActivity: () => void = () => {}
  /** Called when a message waits for a remote that is down (lazy bridges start at `threshold`). */
  onWaiting: (count: number) => void = () => {}
  private waitingQoS0 = 0

  constructor(private readonly config: BridgeConfig, private readonly stats: BridgeStats) {}

  /** Messages waiting for the remote. */
  get heldCount(): number { return this.held.length }

  /** The remote is connected: held messages go out first, in order. */
  remoteUp(client: MqttClient): void {
    this.remote = client
    this.remoteFull = false
    this.waitingQoS0 = 0
    const held = this.held
    this.held = []
    for (const h of held) this.send(h.message, h.via, client)
  }

  remoteDown(client: MqttClient): void {
    if (this.remote === client) this.remote = undefined
    if (this.remoteFull) {
      this.remoteFull = false
      this.resumeLocal()
    }
  }

  /** The local connection is gone: what it gave us unacked is resent by the local session, so it is not kept here. */
  localDown(client: MqttClient): void {
    this.held = this.held.filter((h) => h.via !== client)
  }

  /** A message from the local broker (out, both). `via`: the local client it came on, for the ack. */
  fromLocal(message: Message, via: MqttClient): void {
    const remote = this.remote
    if (remote !== undefined && remote.connected) return this.send(message, via, remote)
    if (message.qos === 0) {
      this.stats.dropped++
      this.waitingQoS0++
    } else {
      this.held.push({message, via})
    }
    this.onWaiting(this.held.length + this.waitingQoS0)
  }

  private send(message: Message, via: MqttClient, remote: MqttClient): void {
    this.onActivity()
    const topic = remoteTopicFor(this.config.topics, message.topic)
    const retain = this.config.outgoingRetain && message.retain
    const properties = remote.protocolVersion === 5 ? passOn(message.properties) : undefined
    if (message.qos === 0) {
      try {
        if (!remote.publishQoS0(topic, message.payload, {retain, properties}) && !this.remoteFull) {
          this.remoteFull = true
          this.pauseLocal()
          void remote.drained().then(() => {
            this.remoteFull = false
            this.resumeLocal()
          })
        }
        this.stats.messagesOut++
      } catch {
        this.stats.dropped++ // too large for the remote, or the connection just went
      }
      return
    }
    remote.publish(topic, message.payload, {qos: message.qos, retain, properties}).then((ack) => {
      if (ack.reasonCode >= 0x80) this.stats.dropped++
      else this.stats.messagesOut++
      via.ack(message)
    }, (error: unknown) => {
      if (error instanceof ConnectionLostError || error instanceof ClientClosedError) {
        // cut by the outage: sent again when the remote is back (dup, as the local ack never went)
        if (this.remote === remote) this.remote = undefined
        if (this.remote !== undefined) this.send(message, via, this.remote)
        else this.held.push({message, via})
        return
      }
      this.stats.dropped++ // refused before sending (too large, QoS above the remote's maximum)
      via.ack(message)
    })
  }

  /** A message from the remote broker (in, both), published on the local broker with the topic remapped. */
  fromRemote(message: Message, via: MqttClient, local: MqttClient | undefined): void {
    this.onActivity()
    if (local === undefined || !local.connected) {
      // not acked: a persistent remote session sends it again after we reconnect
      if (message.qos === 0) this.stats.dropped++
      return
    }
    const topic = localTopicFor(this.config.topics, message.topic)
    const properties = passOn(message.properties)
    if (message.qos === 0) {
      try {
        local.publishQoS0(topic, message.payload, {retain: message.retain, properties})
        this.stats.messagesIn++
      } catch {
        this.stats.dropped++
      }
      return
    }
    local.publish(topic, message.payload, {qos: message.qos, retain: message.retain, properties}).then((ack) => {
      if (ack.reasonCode >= 0x80) this.stats.dropped++ // refused locally (ACL of local_username): acked all the same
      else this.stats.messagesIn++
      via.ack(message)
    }, () => {
      // the local connection went: not acked, so the remote sends it again
    })
  }
}

/** The v5 properties a bridge passes on: all but those that belong to one connection. */
function passOn(p: PublishProperties | undefined): PublishProperties | undefined {
  if (p === undefined) return undefined
  const {topicAlias: _a, subscriptionIdentifier: _s, ...rest} = p
  return Object.keys(rest).length > 0 ? rest : undefined
}
