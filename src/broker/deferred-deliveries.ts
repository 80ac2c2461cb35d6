import type {Delivery, Session} from './session.js'
import type {OutboundState} from './store/types.js'

/** How a deferred delivery would be stored: its session, and its state and packet id as last sent. */
export interface Deferral {
  readonly session: Session
  packetId: number
  state: OutboundState
}

/** A Deferral with its place in the list (a delivery deferred again goes to the end, as in a Map). */
interface Entry extends Deferral {
  at: number
}

/**
 * The QoS 1/2 deliveries Persistence has not handed to the store yet, in the order they were deferred.
 * Each one's Deferral rides on the delivery itself (`Delivery.deferral`) and the order is a plain list:
 * a Map keyed by delivery, with an insert and a delete per message, kept V8 rehashing and shrinking its
 * tables. Entries done with are cleared on their delivery and dropped from the list when it is walked
 * (or when it holds more than four times what is still deferred). A delivery deferred again (a shared
 * subscription's message handed to another member) takes its new place, as a Map's re-insert would.
 */
export class DeferredDeliveries {
  private list: Delivery[] = []
  private live = 0

  get size(): number {
    return this.live
  }

  get(d: Delivery): Deferral | undefined {
    return d.deferral as Deferral | undefined
  }

  /** Defers a delivery that is not deferred. */
  add(d: Delivery, session: Session, packetId: number, state: OutboundState): void {
    if (d.deferral === undefined) this.live++
    const entry: Entry = {session, packetId, state, at: this.list.length}
    d.deferral = entry
    this.list.push(d)
  }

  /** No longer deferred; returns whether it was. */
  delete(d: Delivery): boolean {
    if (d.deferral === undefined) return false
    d.deferral = undefined
    this.live--
    if (this.list.length > 1024 && this.list.length > this.live * 4) this.compact()
    return true
  }

  private compact(): void {
    const kept: Delivery[] = []
    this.list.forEach((d, i) => {
      const entry = d.deferral as Entry | undefined
      if (entry === undefined || entry.at !== i) return
      entry.at = kept.length
      kept.push(d)
    })
    this.list = kept
  }

  /** Takes every deferred delivery, in the order deferred (each once), and empties the list. */
  drain(each: (d: Delivery, deferral: Deferral) => void): void {
    const list = this.list
    this.list = []
    this.live = 0
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!
      const entry = d.deferral as Entry | undefined
      if (entry === undefined || entry.at !== i) continue
      d.deferral = undefined
      each(d, entry)
    }
  }
}
