import {randomBytes} from 'node:crypto'
import type {BrokerEngine} from '../broker/internal.js'
import type {Message} from '../broker/message.js'
import {ForwardLog} from './forward-log.js'
import {InboundLog} from './inbound-log.js'
import type {ClusterCounters} from './node-types.js'
import {NodeOutbox} from './outbox.js'
import type {RouteCache} from './routes.js'
import {decodeNodeFrame, decodeNodeMessage, encodeConfirm, encodeNodeMessage, forEachNodeMessage, type Sequenced} from './wire.js'

const NO_GROUPS: readonly string[] = []

/**
 * The messages between this node and the others (ClusterNode's part of them): a message published
 * here goes to each other node with a matching filter (its outbox, then its ForwardLog: numbered,
 * kept until confirmed); what another node sent is routed here once and in order (InboundLog) to
 * local subscribers only, and confirmed. It also answers, for the message being routed, which shared
 * groups' copies this node delivers.
 */
export class NodeForwarding {
  readonly counters: ClusterCounters = {forwarded: 0, received: 0, undecodable: 0, dropped: 0}
  /** What this node sent the others and they have not confirmed (sent again when they may have missed it). */
  private readonly forwards: ForwardLog
  /** What the others sent this node: routed once and in order, confirmed once as safe as a PUBACK. */
  private readonly inbound: InboundLog
  /** Forwarded messages of this event-loop turn, one Redis PUBLISH per node when it ends. */
  private readonly outbox = new NodeOutbox((node, encoded, held, qos) => this.forwards.send(node, encoded, held, qos))
  /** The message being routed and the shared groups this node delivers for it (no message: all groups). */
  private routingMessage: Message | undefined
  private routingGroups: readonly string[] = NO_GROUPS
  private readonly targets = new Set<string>()
  private readonly groupTargets = new Map<string, string[]>()

  /** `publish` writes bytes to a node (a failure is made good by sending again; `light`: see ForwardLog). */
  constructor(private readonly id: string, private readonly broker: BrokerEngine, private readonly routes: RouteCache,
    publish: (node: string, bytes: Buffer, light?: Buffer) => void, ackWindow: number | undefined) {
    const acks = broker.persistence?.acks
    this.forwards = new ForwardLog(id, randomEpoch(), publish, acks, ackWindow)
    this.inbound = new InboundLog(id, acks, broker, (node, c) => publish(node, encodeConfirm(c)))
  }

  /** The message being published is not forwarded: every shared group's copy is this node's. Returns 0 nodes. */
  notForwarded(): number {
    this.routingMessage = undefined
    return 0
  }

  /**
   * Sends a message published here to the other nodes that want it; `plain` is its encoding for a node
   * without a shared group of it, if made already. Returns how many nodes it went to.
   */
  forward(message: Message, plain: Buffer | undefined): number {
    // no other node holds a filter (a cluster of one, or nobody elsewhere subscribed yet): nothing to
    // look up, and every shared group's copy is this node's
    if (!this.routes.othersHold(this.id)) return this.notForwarded()
    const now = this.broker.now()
    // no shared subscription anywhere (the usual case): the nodes are the route cache's list for the
    // topic, walked as it is, with no set filled and emptied per message
    if (!this.routes.hasShared) {
      const list = this.routes.plainNodes(message.topic)
      this.routingMessage = message
      this.routingGroups = NO_GROUPS
      for (let i = 0; i < list.length; i++) this.toNode(list[i]!, message, plain ??= encodeNodeMessage(this.id, message, NO_GROUPS, now))
      return list.length
    }
    const nodes = this.targets
    const groups = this.groupTargets
    try {
      this.routes.match(message.topic, nodes, groups)
      const mine = groups.get(this.id)
      this.routingMessage = message
      this.routingGroups = mine ?? NO_GROUPS
      if (mine !== undefined) groups.delete(this.id)
      if (groups.size === 0 && nodes.size === 0) return 0
      for (const n of groups.keys()) nodes.add(n)
      for (const n of nodes) {
        const shared = groups.get(n)
        this.toNode(n, message, shared === undefined ? (plain ??= encodeNodeMessage(this.id, message, NO_GROUPS, now)) : encodeNodeMessage(this.id, message, shared, now))
      }
      return nodes.size
    } finally {
      nodes.clear()
      groups.clear()
    }
  }

  /**
   * Redis is away: a QoS 1 or 2 message for other nodes (as the route cache last knew them; the shared
   * groups' copies are this node's meanwhile) is numbered and kept, to be sent once Redis is back,
   * while the node's window has room. Past it, it is not forwarded (counted), as a Mosquitto bridge's
   * full queue drops, so that the publishers here are not held back for as long as Redis is away;
   * with a window of 0 (every PUBACK waits for the other nodes) it is kept and its PUBACK held.
   */
  keepForLater(message: Message): number {
    this.routingMessage = undefined
    if (message.qos === 0 || !this.routes.othersHold(this.id)) return 0
    const nodes = this.targets
    let kept = 0
    try {
      this.routes.match(message.topic, nodes, this.groupTargets)
      let plain: Buffer | undefined
      for (const n of nodes) {
        if (!this.forwards.keeps(n)) {
          this.counters.dropped++
          continue
        }
        this.toNode(n, message, plain ??= encodeNodeMessage(this.id, message, NO_GROUPS, this.broker.now()))
        kept++
      }
    } finally {
      nodes.clear()
      this.groupTargets.clear()
    }
    return kept
  }

  /** Puts a message, encoded for `node`, in its outbox (its acknowledgement held if the node's window is full). */
  private toNode(node: string, message: Message, encoded: Buffer): void {
    this.outbox.add(node, encoded, message.qos, this.forwards.hold(node, message) ? message : undefined)
    this.counters.forwarded++
  }

  /** Whether this node delivers the copy for shared group `group` of the message being routed. */
  sharedHere(group: string, message: Message): boolean {
    if (this.routingMessage !== message) return true
    // a message matches a few groups at most: a list is searched, no set made per message
    return this.routingGroups.includes(group)
  }

  /** What arrived on this node's channel: numbered messages from another node, or a confirmation of what it sent. */
  received(bytes: Buffer): void {
    let frame: ReturnType<typeof decodeNodeFrame>
    try {
      frame = decodeNodeFrame(bytes)
    } catch {
      this.counters.undecodable++
      return
    }
    if (frame.kind === 'messages') return forEachNodeMessage(frame.frame, this.onForwarded)
    if (frame.kind === 'confirm') {
      const c = frame.frame
      this.forwards.confirmed(c.from, c.epoch, c.upTo)
      if (c.resend) this.forwards.resend(c.from)
      return
    }
    this.onSequenced(frame.frame)
  }

  private onSequenced(s: Sequenced): void {
    if (s.sender === this.id || this.inbound.accept(s.sender, s.epoch, s.seq, s.low) !== 'route') return
    try {
      forEachNodeMessage(s.payload, this.onForwarded)
    } finally {
      this.inbound.routed()
    }
  }

  /** A message another node forwarded here (alone or in a batch). */
  private readonly onForwarded = (bytes: Buffer, start: number, end: number): void => {
    const m = this.decode(bytes, start, end)
    if (m === undefined || m.sender === this.id) return
    this.counters.received++
    // routed here only: never published again, so never forwarded again
    this.routingMessage = m.message
    this.routingGroups = m.groups
    try {
      this.inbound.route(m.message, this.routeHere)
    } catch (error) {
      // costs this message, not the rest of its batch
      this.broker.internalError(error, {during: 'a message from another node'})
    }
  }

  private readonly routeHere = (message: Message): void => { this.broker.router.route(message) }

  private decode(bytes: Buffer, start: number, end: number): ReturnType<typeof decodeNodeMessage> | undefined {
    try {
      return decodeNodeMessage(bytes, this.broker.now(), start, end)
    } catch {
      this.counters.undecodable++
      return undefined
    }
  }

  /** `node` came back (or joined): it may have missed what this node sent. */
  resend(node: string): void {
    this.forwards.resend(node)
  }

  /** This node came back from an outage: the others may have missed what it sent. */
  resendAll(): void {
    this.forwards.resendAll()
  }

  /** (Each heartbeat) to the nodes silent for long, everything again. */
  resendStale(stale?: (node: string) => void): void {
    this.forwards.resendStale(Date.now(), stale)
  }

  /**
   * `node` is gone (its sessions adopted, here or elsewhere): what it sent is forgotten, and what it did
   * not confirm never will be. The acknowledgements held for it are not sent: its subscribers do not
   * have those messages, so their publishers are disconnected (one log line) to send them again to
   * wherever those sessions are now.
   */
  nodeDown(node: string): void {
    // what this turn made for it is numbered first, so that its holds are counted with the rest
    this.outbox.flush()
    this.inbound.dropNode(node)
    const held = this.forwards.dropNode(node)
    const acks = this.broker.persistence?.acks
    if (acks === undefined || held.length === 0) return
    const conns = acks.abandon(held, `cluster node ${node} went before it confirmed the message`)
    if (conns > 0) this.broker.options.logger.warn({node: this.id, dead: node, messages: held.length, connections: conns},
      `cluster: node ${node} went before it confirmed ${held.length} message${held.length === 1 ? '' : 's'}; their publishers (${conns} connection${conns === 1 ? '' : 's'}) are disconnected unanswered, to send them again`)
  }

  /** Redis is gone: what waits in the outbox is kept (and numbered) with what was not confirmed, to be sent again. */
  lost(): void {
    this.routingMessage = undefined
    this.outbox.flush()
  }

  get unconfirmedBatches(): number {
    return this.forwards.unconfirmedBatches
  }

  /** Batches sent again; batches received after a missing one, and received again. */
  get resends(): {resent: number; gaps: number; duplicates: number} {
    return {resent: this.forwards.resent, ...this.inbound.counts}
  }

  /** Leaving: what waits goes now, if Redis answers. */
  close(up: boolean): void {
    if (up) this.outbox.flush()
    else this.outbox.clear()
    this.inbound.close()
  }
}

/** This node's epoch: its numbers start again at each join. */
function randomEpoch(): string {
  return randomBytes(4).toString('hex')
}
