import {isExpired, type Message} from './message.js'
import {RetainedTree} from './retained-tree.js'

/** Told of every change, to keep a durable copy (persistence on). */
export interface RetainedJournal {
  set(msg: Message): void
  delete(topic: string): void
}

/** Retained messages, one per topic, looked up by subscription filter. */
export class RetainedMessages {
  private readonly tree = new RetainedTree<Message>()
  journal: RetainedJournal | undefined

  get size(): number { return this.tree.size }

  /**
   * Stores a retained message; an empty payload deletes the topic's message [MQTT-3.3.1-10]
   * [MQTT-3.3.1-11]. Returns false for a delete that found nothing to delete.
   */
  set(msg: Message): boolean {
    if (msg.payload.length === 0) {
      if (!this.tree.delete(msg.topic)) return false
      this.journal?.delete(msg.topic)
    } else {
      this.tree.set(msg.topic, msg)
      this.journal?.set(msg)
    }
    return true
  }

  /** Puts back a message loaded from a store. */
  restore(msg: Message): void {
    this.tree.set(msg.topic, msg)
  }

  /** The live retained messages matching a filter; expired ones are removed on the way [MQTT-3.3.2-5]. */
  match(filter: string, now: number): Message[] {
    const out: Message[] = []
    const expired: string[] = []
    this.tree.forEachMatching(filter, (msg, topic) => {
      if (isExpired(msg, now)) expired.push(topic)
      else out.push(msg)
    })
    for (const topic of expired) {
      this.tree.delete(topic)
      this.journal?.delete(topic)
    }
    return out
  }

  *entries(): IterableIterator<Message> {
    for (const [, msg] of this.tree.entries()) yield msg
  }
}
