// A broker's bridges: added by the library API (broker.addBridge) or from mosquitto.conf, stopped
// with the broker.
import {Bridge, type BridgeHost} from './bridge.js'
import {resolveBridge, type BridgeInput} from './config.js'

export {Bridge, type BridgeHost, type BridgeState} from './bridge.js'
export {resolveBridge, nextRestartDelay, type BridgeConfig, type BridgeInput, type BridgeAddress, type BridgeStartType} from './config.js'
export {bridgeTopic, parseTopicLine, localTopicFor, remoteTopicFor, BridgeTopicError, type BridgeTopic, type BridgeDirection} from './topics.js'
export type {BridgeStats} from './stats.js'

export class Bridges {
  private readonly list: Bridge[] = []

  constructor(private readonly broker: BridgeHost) {}

  get all(): readonly Bridge[] { return this.list }

  /**
   * Adds a bridge and starts it: the local side connects at once, the remote in the background
   * (a remote that is down is retried; the promise does not wait for it).
   */
  async add(input: BridgeInput): Promise<Bridge> {
    const config = resolveBridge(input)
    const clash = this.list.find((b) => b.config.name === config.name || b.config.localClientId === config.localClientId)
    if (clash !== undefined) throw new TypeError(`bridge ${config.name}: the name or local client id is already used by bridge ${clash.config.name}`)
    const bridge = new Bridge(this.broker, config)
    this.list.push(bridge)
    await bridge.startLocal()
    void bridge.startRemote()
    return bridge
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((b) => b.close()))
  }
}
