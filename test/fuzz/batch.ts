// Sends a batch of connection scripts to the broker at once, each over its own TCP socket, and waits
// until every one of them is closed.
import {connect, type Socket} from 'node:net'
import type {ConnectionScript} from './generate.js'

export interface BatchResult {
  /** Connections the broker had not closed within the allowance after our half-close (then reset by us). */
  lingering: number
  /** Connections refused or reset before the script was written (the broker was gone, or full). */
  failed: number
}

function runOne(port: number, script: ConnectionScript, lingerMs: number): Promise<'ok' | 'lingering' | 'failed'> {
  return new Promise((resolve) => {
    let written = false
    let outcome: 'ok' | 'lingering' | 'failed' | undefined
    const socket: Socket = connect({port, host: '127.0.0.1'})
    let timer: NodeJS.Timeout | undefined
    socket.on('error', () => { if (!written) outcome ??= 'failed' })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(outcome ?? 'ok')
    })
    socket.resume() // what the broker answers is read and dropped
    socket.once('connect', () => {
      socket.write(Buffer.concat(script.packets), () => {
        written = true
        if (script.close === 'destroy') {
          socket.destroy()
          return
        }
        socket.end()
        // the broker closes its side on our FIN; a connection still open after the allowance is counted
        timer = setTimeout(() => { outcome = 'lingering'; socket.destroy() }, lingerMs)
      })
    })
  })
}

export async function runBatch(port: number, scripts: ConnectionScript[], lingerMs = 30_000): Promise<BatchResult> {
  const outcomes = await Promise.all(scripts.map((s) => runOne(port, s, lingerMs)))
  return {lingering: outcomes.filter((o) => o === 'lingering').length, failed: outcomes.filter((o) => o === 'failed').length}
}
