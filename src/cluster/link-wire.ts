import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'

/*
 * The bytes of a direct link between two nodes (links.ts). Every frame is a u32 length, then that many
 * bytes. A link starts with a handshake in which both ends prove that they know the cluster's secret
 * (kept in Redis) without sending it, over fresh nonces and both node ids:
 *
 *   dialer -> listener  HELLO      [1, version, dialer id, listener id, dialer nonce (32)]
 *   listener -> dialer  CHALLENGE  [2, listener nonce (32), HMAC-SHA256(secret, 'listener', ...)]
 *   dialer -> listener  PROOF      [3, HMAC-SHA256(secret, 'dialer', ...)]
 *   listener -> dialer  READY      [4]
 *
 * (each HMAC over the role, both nonces and both ids, each length-prefixed). After READY the dialer
 * sends frames of wire.ts (numbered batches, confirmations) and the listener sends nothing: a link
 * carries one direction; each node dials the nodes it sends to.
 */

const HELLO = 1
const CHALLENGE = 2
const PROOF = 3
const READY = 4
const VERSION = 1
const NONCE = 32
/** Largest frame read before the handshake completed. */
export const HANDSHAKE_MAX_FRAME = 512
/** Largest frame read from an authenticated node: a batch (256 KiB) or one message of MQTT's largest size, with wire.ts' headers. */
export const LINK_MAX_FRAME = 268_435_460 + 64 * 1024

/** A frame's bytes as written: the length, then the body (one Buffer: handshake frames only). */
export function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length)
  out.writeUInt32BE(body.length, 0)
  body.copy(out, 4)
  return out
}

/** The 4-byte length prefix of a frame of `length` bytes (the body written after it, uncopied). */
export function frameHeader(length: number): Buffer {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32BE(length, 0)
  return out
}

/**
 * Cuts a byte stream into frames. A chunk holding whole frames is cut without copying; a frame
 * spread over chunks is joined once, when its last byte arrives. Throws on a frame longer than `max`.
 */
export class FrameReader {
  private chunks: Buffer[] = []
  private have = 0

  constructor(public max: number) {}

  push(chunk: Buffer, onFrame: (body: Buffer) => void): void {
    if (this.have > 0) {
      this.chunks.push(chunk)
      this.have += chunk.length
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks)
      if (head.length < 4 || this.have < 4 + this.length(head, 0)) return
      chunk = Buffer.concat(this.chunks, this.have)
      this.chunks = []
      this.have = 0
    }
    let at = 0
    while (chunk.length - at >= 4) {
      const end = at + 4 + this.length(chunk, at)
      if (end > chunk.length) break
      onFrame(chunk.subarray(at + 4, end))
      at = end
    }
    if (at < chunk.length) {
      this.chunks = [chunk.subarray(at)]
      this.have = chunk.length - at
    }
  }

  private length(bytes: Buffer, at: number): number {
    const n = bytes.readUInt32BE(at)
    if (n > this.max) throw new RangeError(`a frame of ${n} bytes (at most ${this.max} here)`)
    return n
  }
}

export interface Hello {
  from: string
  to: string
  nonce: Buffer
}

export function nonce(): Buffer {
  return randomBytes(NONCE)
}

export function encodeHello(h: Hello): Buffer {
  return frame(Buffer.concat([Buffer.from([HELLO, VERSION]), str(h.from), str(h.to), h.nonce]))
}

export function decodeHello(body: Buffer): Hello {
  if (body[0] !== HELLO) throw new Error('not a link handshake')
  if (body[1] !== VERSION) throw new Error(`link version ${body[1]} (this node speaks ${VERSION})`)
  const r = {at: 2}
  const from = readStr(body, r)
  const to = readStr(body, r)
  if (body.length - r.at !== NONCE) throw new Error('a malformed link handshake')
  return {from, to, nonce: body.subarray(r.at)}
}

export function encodeChallenge(listenerNonce: Buffer, mac: Buffer): Buffer {
  return frame(Buffer.concat([Buffer.from([CHALLENGE]), listenerNonce, mac]))
}

export function decodeChallenge(body: Buffer): {nonce: Buffer; mac: Buffer} {
  if (body[0] !== CHALLENGE || body.length !== 1 + NONCE + 32) throw new Error('a malformed link challenge')
  return {nonce: body.subarray(1, 1 + NONCE), mac: body.subarray(1 + NONCE)}
}

export function encodeProof(mac: Buffer): Buffer {
  return frame(Buffer.concat([Buffer.from([PROOF]), mac]))
}

export function decodeProof(body: Buffer): Buffer {
  if (body[0] !== PROOF || body.length !== 33) throw new Error('a malformed link proof')
  return body.subarray(1)
}

export const READY_FRAME = frame(Buffer.from([READY]))

export function isReady(body: Buffer): boolean {
  return body.length === 1 && body[0] === READY
}

/** What one end of the handshake proves: HMAC-SHA256 with the cluster's secret over its role, both nonces and both ids. */
export function handshakeMac(secret: string, role: 'dialer' | 'listener', hello: Hello, listenerNonce: Buffer): Buffer {
  const h = createHmac('sha256', secret)
  for (const part of [str(`midge-link ${role}`), hello.nonce, listenerNonce, str(hello.from), str(hello.to)]) h.update(part)
  return h.digest()
}

/** Whether `mac` is the expected one (compared in constant time). */
export function macMatches(mac: Buffer, expected: Buffer): boolean {
  return mac.length === expected.length && timingSafeEqual(mac, expected)
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  if (b.length > 255) throw new Error('a node id longer than 255 bytes')
  return Buffer.concat([Buffer.from([b.length]), b])
}

function readStr(body: Buffer, r: {at: number}): string {
  if (r.at >= body.length) throw new Error('a malformed link handshake')
  const n = body[r.at]!
  const end = r.at + 1 + n
  if (end > body.length) throw new Error('a malformed link handshake')
  const s = body.toString('utf8', r.at + 1, end)
  r.at = end
  return s
}
