// The bridge's state topic, as Mosquitto publishes it (src/bridge.c): "0" retained locally when the
// bridge starts, a will of "0" (retained, QoS 1) on the remote so that the remote reports a lost
// connection, and "1" on both sides once connected (remote side skipped with notifications_local_only).
// One difference: midge also publishes "0" locally when the connection is lost, where Mosquitto
// leaves the local state at "1" until the bridge reconnects.
import type {MqttClient, WillOptions} from '../../client/index.js'
import type {BridgeConfig} from './config.js'

export class Notifications {
  constructor(private readonly config: BridgeConfig) {}

  private get enabled(): boolean { return this.config.notifications }

  /** The will the remote publishes when the connection dies (none with notifications_local_only). */
  remoteWill(): WillOptions | undefined {
    if (!this.enabled || this.config.notificationsLocalOnly) return undefined
    return {topic: this.config.notificationTopic, payload: '0', qos: 1, retain: true}
  }

  /** Publishes the state on the local broker (retained, QoS 1), through the bridge's local client. */
  local(client: MqttClient | undefined, state: 0 | 1): void {
    if (!this.enabled || client === undefined || !client.connected) return
    client.publish(this.config.notificationTopic, String(state), {qos: 1, retain: true}).catch(() => undefined)
  }

  /** Publishes "1" on the remote once connected (retained unless bridge_outgoing_retain is false). */
  remoteUp(client: MqttClient): void {
    if (!this.enabled || this.config.notificationsLocalOnly) return
    client.publish(this.config.notificationTopic, '1', {qos: 1, retain: this.config.outgoingRetain}).catch(() => undefined)
  }

  /** Publishes "0" on the remote before a clean disconnect (the will is not sent then); waits 2 s at most for the ack. */
  async remoteDown(client: MqttClient): Promise<void> {
    if (!this.enabled || this.config.notificationsLocalOnly || !client.connected) return
    let timer: NodeJS.Timeout | undefined
    const sent = client.publish(this.config.notificationTopic, '0', {qos: 1, retain: this.config.outgoingRetain}).catch(() => undefined)
    await Promise.race([sent, new Promise((resolve) => { timer = setTimeout(resolve, 2000) })])
    clearTimeout(timer)
  }
}
