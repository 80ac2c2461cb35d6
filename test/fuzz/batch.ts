// Sends a batch of connection scripts to the broker at once, each over its own TCP socket, and waits
// until every one of them is closed.
import {connect, type Socket} from 'node:net'
import type {ConnectionScript} from './generate.js'

export interface BatchResult {
  /** Connections the broker had not closed within the allowance after our half-close (then reset by us). */
  lingering: number
  /** Connections refused or reset before the script was written (the broker was gone, or full). */
  failed: number
  /** Connections whose CONNECT was accepted (the broker's first bytes were a CONNACK with code 0). */
  accepted: number
}

/** A CONNACK with return/reason code 0 at the start of what the broker sent. */
function accepted(first: Buffer | undefined): boolean {
  return first !== undefined && first.length >= 4 && first[0] === 0x20 && first[3] === 0
}

type Outcome = {end: 'ok' | 'lingering' | 'failed'; accepted: boolean}

function runOne(port: number, script: ConnectionScript, lingerMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let first: Buffer | undefined
    let written = false
    let outcome: 'ok' | 'lingering' | 'failed' | undefined
    const socket: Socket = connect({port, host: '127.0.0.1'})
    let timer: NodeJS.Timeout | undefined
    socket.on('error', () => { if (!written) outcome ??= 'failed' })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({end: outcome ?? 'ok', accepted: accepted(first)})
    })
    // what the broker answers is read and dropped, but for the start of its first chunk
    socket.on('data', (d: Buffer) => { first ??= d.subarray(0, 4) })
    let leave: () => void = () => undefined
    // A client leaves after the broker's first answer (or 2 s without one): packets pipelined behind
    // a CONNECT whose authentication is pending wait for it, and a FIN before the CONNACK would end
    // the connection with them unread. A client that waits sends nothing after its CONNECT until then.
    let answered = false
    let waited: NodeJS.Timeout | undefined
    const [connectPacket, ...rest] = script.packets
    const pipelined = script.pipelined !== false
    let onAnswer = () => leave()
    socket.on('data', () => { if (!answered) { answered = true; clearTimeout(waited); onAnswer() } })
    const finish = () => {
      written = true
      leave = () => {
        leave = () => undefined
        if (script.close === 'destroy') {
          socket.destroy()
          return
        }
        socket.end()
        // the broker closes its side on our FIN; a connection still open after the allowance is counted
        timer = setTimeout(() => { outcome = 'lingering'; socket.destroy() }, lingerMs)
      }
      if (answered || !pipelined) leave()
      else waited = setTimeout(() => leave(), 1_000)
    }
    socket.once('connect', () => {
      socket.setNoDelay(true)
      if (pipelined) {
        writeSplit(socket, Buffer.concat(script.packets), script.splits, finish)
        return
      }
      socket.write(connectPacket)
      const sendRest = () => { onAnswer = () => undefined; if (!socket.destroyed) writeSplit(socket, Buffer.concat(rest), script.splits, finish) }
      onAnswer = sendRest
      waited = setTimeout(sendRest, 1_000)
    })
    socket.on('close', () => clearTimeout(waited))
  })
}

/**
 * Writes bytes in pieces cut at the given offsets (each piece after the previous one was handed to
 * the kernel, with Nagle off, so the broker's framer sees headers and bodies split across reads).
 */
function writeSplit(socket: Socket, bytes: Buffer, splits: number[] | undefined, done: () => void): void {
  const cuts = (splits ?? []).filter((c) => c > 0 && c < bytes.length)
  let from = 0
  const next = (): void => {
    if (socket.destroyed) return
    const to = cuts.length > 0 ? cuts.shift()! : bytes.length
    const piece = bytes.subarray(from, to)
    from = to
    if (from >= bytes.length) socket.write(piece, done)
    else socket.write(piece, () => setImmediate(next))
  }
  next()
}

export async function runBatch(port: number, scripts: ConnectionScript[], lingerMs = 30_000): Promise<BatchResult> {
  const outcomes = await Promise.all(scripts.map((s) => runOne(port, s, lingerMs)))
  return {
    lingering: outcomes.filter((o) => o.end === 'lingering').length,
    failed: outcomes.filter((o) => o.end === 'failed').length,
    accepted: outcomes.filter((o) => o.accepted).length,
  }
}
