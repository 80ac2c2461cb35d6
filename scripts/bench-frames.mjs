#!/usr/bin/env node
// The bench's receive path alone, in one thread: socket-sized chunks of PUBLISH frames read by the
// codec's FrameScanner + PublishView + writeShortAck (what src/bench/connection.ts uses), against the
// hand-written parser bench had before issue #15 (copied below as the baseline). Interleaved rounds;
// prints the median and spread of each. CPU-bound and single-threaded, so it means something on a
// busy machine where the end-to-end `bench --embedded` figures swing by 10x.
//   npm run build && node scripts/bench-frames.mjs [--rounds 7] [--payload 256]
import {parseArgs} from 'node:util'
import {FrameScanner, PublishView, writeShortAck, AckByte} from '../dist/codec/index.js'

const {values} = parseArgs({options: {rounds: {type: 'string', default: '7'}, payload: {type: 'string', default: '256'}}})
const rounds = Number(values.rounds)
const payloadSize = Number(values.payload)

/** A v5 PUBLISH of the bench's shape: topic bench/N, no properties, packet id for QoS > 0. */
function publish(qos, id) {
  const topic = Buffer.from(`bench/${id % 10}`)
  const remaining = 2 + topic.length + (qos ? 2 : 0) + 1 + payloadSize
  const head = remaining < 128 ? [remaining] : [(remaining & 0x7f) | 0x80, remaining >> 7]
  const b = Buffer.alloc(1 + head.length + remaining, 0x61)
  let o = 0
  b[o++] = 0x30 | (qos << 1)
  for (const h of head) b[o++] = h
  b.writeUInt16BE(topic.length, o); o += 2
  topic.copy(b, o); o += topic.length
  if (qos) { b.writeUInt16BE((id % 65_535) + 1, o); o += 2 }
  b[o] = 0 // property length
  return b
}

/** The stream cut into chunks of 64 KiB, as a socket hands them over (frames span chunk edges). */
function chunks(qos, frames) {
  const all = Buffer.concat(Array.from({length: frames}, (_, i) => publish(qos, i)))
  const out = []
  for (let o = 0; o < all.length; o += 65_536) out.push(Buffer.from(all.subarray(o, o + 65_536)))
  return out
}

// ---- the receive path bench had before issue #15 (src/bench/connection.ts at 02c9787) ----
function oldReader() {
  let carry
  let acks = Buffer.allocUnsafe(4096)
  let ackLength = 0
  let received = 0
  const queueAck = (first, id) => {
    if (ackLength + 4 > acks.length) { const bigger = Buffer.allocUnsafe(acks.length * 2); acks.copy(bigger, 0, 0, ackLength); acks = bigger }
    acks[ackLength] = first; acks[ackLength + 1] = 2; acks[ackLength + 2] = id >> 8; acks[ackLength + 3] = id & 0xff
    ackLength += 4
  }
  const onPublish = (first, buf, start, end) => {
    const qos = (first >> 1) & 3
    let pos = start + 2 + buf.readUInt16BE(start)
    let id = 0
    if (qos > 0) { id = buf.readUInt16BE(pos); pos += 2 }
    let length = 0; let multiplier = 1; let b
    do { b = buf[pos++]; length += (b & 0x7f) * multiplier; multiplier *= 128 } while (b & 0x80)
    pos += length
    received += end - pos > 0 ? 1 : 1
    if (qos === 1) queueAck(0x40, id)
  }
  return {
    push(chunk) {
      let buf = chunk
      if (carry) { buf = Buffer.concat([carry, chunk]); carry = undefined }
      const n = buf.length
      let p = 0
      while (p + 2 <= n) {
        let length = 0; let multiplier = 1; let i = p + 1; let complete = false
        while (i < n) {
          const b = buf[i++]
          length += (b & 0x7f) * multiplier
          if ((b & 0x80) === 0) { complete = true; break }
          multiplier *= 128
        }
        if (!complete) break
        const end = i + length
        if (end > n) break
        if (buf[p] >> 4 === 3) onPublish(buf[p], buf, i, end)
        p = end
      }
      if (p < n) carry = Buffer.from(buf.subarray(p))
      ackLength = 0
    },
    get received() { return received },
  }
}

// ---- the receive path now: the codec's scanner and in-place readers ----
function newReader() {
  const scanner = new FrameScanner(268_435_460)
  const view = new PublishView()
  let acks = Buffer.allocUnsafe(4096)
  let ackLength = 0
  let received = 0
  const onFrame = (buf, start, body, end) => {
    if (buf[start] >> 4 === 3) {
      view.read(buf, start, body, end, 5)
      received += end - view.payloadStart > 0 ? 1 : 1
      if (view.qos === 1) {
        if (ackLength + 4 > acks.length) { const bigger = Buffer.allocUnsafe(acks.length * 2); acks.copy(bigger, 0, 0, ackLength); acks = bigger }
        ackLength = writeShortAck(acks, ackLength, AckByte.puback, view.packetId)
      }
    }
    return true
  }
  return {
    push(chunk) { scanner.push(chunk, onFrame); ackLength = 0 },
    get received() { return received },
  }
}

function run(make, input, frames) {
  const reader = make()
  const t0 = process.hrtime.bigint()
  for (const c of input) reader.push(c)
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (reader.received !== frames) throw new Error(`read ${reader.received} of ${frames} frames`)
  return frames / seconds
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const fmt = (x) => `${(x / 1e6).toFixed(2)}M/s`
const frames = 400_000
for (const qos of [0, 1]) {
  const input = chunks(qos, frames)
  const results = {before: [], after: []}
  for (let r = 0; r < rounds + 1; r++) {
    const a = run(oldReader, input, frames)
    const b = run(newReader, input, frames)
    if (r > 0) { results.before.push(a); results.after.push(b) } // round 0 warms the JIT
  }
  const line = (name) => `${name} median ${fmt(median(results[name]))} (min ${fmt(Math.min(...results[name]))}, max ${fmt(Math.max(...results[name]))})`
  console.log(`QoS ${qos}, ${payloadSize} B payloads, ${rounds} rounds of ${frames} frames in 64 KiB chunks:`)
  console.log(`  ${line('before')}\n  ${line('after')}\n  after/before ${(median(results.after) / median(results.before)).toFixed(2)}`)
}
