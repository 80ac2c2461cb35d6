import {MqttError, ProtocolError} from './errors.js'
import {ReasonCode} from './reason-codes.js'

/**
 * The topic aliases a v5 peer sends us on one connection (the broker's from its clients, the client's
 * from its broker). A PUBLISH with a topic name and an alias (re)maps the alias; one with an empty
 * topic name uses the mapping. A new connection starts with none [MQTT-3.3.2-7] (v5): make one per
 * connection, on its first aliased PUBLISH.
 */
export class InboundAliases {
  private readonly topics = new Map<number, string>()

  /** max: the Topic Alias Maximum we announced (CONNACK for a broker, CONNECT for a client). */
  constructor(private readonly max: number) {}

  /**
   * The topic of a PUBLISH that carries `alias`. Throws MqttError 0x94 (Topic Alias invalid) for 0 or
   * an alias above our maximum [MQTT-3.3.2-8] [MQTT-3.3.2-9] [MQTT-3.3.2-10] (v5), and ProtocolError
   * for an empty topic name with an alias that has no mapping (v5 3.3.2.3.4).
   */
  resolve(topic: string, alias: number): string {
    if (alias === 0 || alias > this.max) throw new MqttError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} is outside 1..${this.max}`)
    if (topic !== '') {
      this.topics.set(alias, topic)
      return topic
    }
    const known = this.topics.get(alias)
    if (known === undefined) throw new ProtocolError(`unknown topic alias ${alias}`)
    return known
  }

  /** Aliases mapped. */
  get size(): number { return this.topics.size }
}
