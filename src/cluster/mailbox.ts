import type {Redis} from 'ioredis'
import {MAIL_ALL, mailChannel} from './keys.js'

/** Receives the messages of one kind: the sending node and the bytes. */
export type MailHandler = (from: string, payload: Buffer) => void

/**
 * Node-to-node messages for other cluster features (part 2: session takeover and mobility), on the
 * node's own Redis connections: `send` to one node, `broadcast` to all others, `on(kind)` to receive.
 * A message is [u16 kind length, kind, u16 sender length, sender, payload]. Like all Redis pub/sub it
 * is at most once: a node that is not connected at the time does not get it.
 */
export class NodeMailbox {
  private readonly handlers = new Map<string, MailHandler>()

  constructor(private readonly id: string, private readonly redis: Redis) {}

  on(kind: string, handler: MailHandler): void {
    this.handlers.set(kind, handler)
  }

  off(kind: string): void {
    this.handlers.delete(kind)
  }

  /** Resolves once Redis took it; rejects when Redis is away (nothing is queued). */
  async send(node: string, kind: string, payload: Buffer): Promise<void> {
    await this.redis.publish(mailChannel(node), this.frame(kind, payload))
  }

  async broadcast(kind: string, payload: Buffer): Promise<void> {
    await this.redis.publish(MAIL_ALL, this.frame(kind, payload))
  }

  /** A message from the node's subscriber connection. */
  receive(bytes: Buffer): void {
    const kindLength = bytes.readUInt16BE(0)
    const kind = bytes.toString('utf8', 2, 2 + kindLength)
    const senderLength = bytes.readUInt16BE(2 + kindLength)
    const senderStart = 4 + kindLength
    const from = bytes.toString('utf8', senderStart, senderStart + senderLength)
    if (from === this.id) return
    this.handlers.get(kind)?.(from, bytes.subarray(senderStart + senderLength))
  }

  private frame(kind: string, payload: Buffer): Buffer {
    const k = Buffer.from(kind)
    const s = Buffer.from(this.id)
    const out = Buffer.allocUnsafe(4 + k.length + s.length + payload.length)
    let at = out.writeUInt16BE(k.length, 0)
    at += k.copy(out, at)
    at = out.writeUInt16BE(s.length, at)
    at += s.copy(out, at)
    payload.copy(out, at)
    return out
  }
}
