/**
 * Topic aliases we send to one v5 connection (option outboundTopicAliases). Aliases are numbered
 * 1..max, never above the client's Topic Alias Maximum [MQTT-3.3.2-11]; when all are taken the least
 * recently used one is given to the new topic (sent with its full name, which remaps it). A new
 * connection starts with no mappings [MQTT-3.3.2-7].
 */
export class OutboundAliases {
  /** topic -> alias, least recently used first. */
  private readonly byTopic = new Map<string, number>()

  constructor(private readonly max: number) {}

  /**
   * The alias for a topic: `known` when the client already maps it (send an empty topic name), else a
   * new mapping to send with the full topic; call commit() once that packet was actually sent.
   */
  lookup(topic: string): {alias: number; known: boolean} {
    const alias = this.byTopic.get(topic)
    if (alias !== undefined) {
      this.byTopic.delete(topic)
      this.byTopic.set(topic, alias)
      return {alias, known: true}
    }
    if (this.byTopic.size < this.max) return {alias: this.byTopic.size + 1, known: false}
    const [, oldest] = this.byTopic.entries().next().value as [string, number]
    return {alias: oldest, known: false}
  }

  /** Records a mapping that went out with its full topic name. */
  commit(topic: string, alias: number): void {
    if (this.byTopic.size >= this.max) {
      for (const [t, a] of this.byTopic) {
        if (a === alias) {
          this.byTopic.delete(t)
          break
        }
      }
    }
    this.byTopic.set(topic, alias)
  }
}
