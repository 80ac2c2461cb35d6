import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {createBroker} from '../../../src/broker/broker.js'
import type {BrokerOptions} from '../../../src/broker/options.js'
import {FrameScanner} from '../../../src/codec/frame-scanner.js'
import {duplexPair} from '../../helpers/duplex-pair.js'

/**
 * The strict-peer table (issue #16): packet sequences in hex, the exact bytes the broker must answer
 * with, and whether it must close, for MQTT 3.1, 3.1.1 and 5.0. Every row cites the statement it checks.
 *
 * A row's script is a list of steps:
 *   '> hex'   the client sends these bytes (spaces are ignored)
 *   '< hex'   the next packet from the broker is exactly these bytes ('..' matches any one byte; a
 *             trailing '*' any rest: '< 20 .. 00 81 *' is a v5 CONNACK 0x81 with any properties)
 *   'close'   the broker closes the connection, with nothing more sent
 *   'new'     a new connection to the same broker (the old one is dropped)
 * A script that does not end with 'close' ends with a PINGREQ that must be answered by PINGRESP and
 * nothing before it: the connection is open and nothing else was said. Unless a row is `raw`, its
 * script starts after the version's standard CONNECT (client id "c", clean, keepalive 0; v5 with
 * Request Problem Information 0, so no reason strings) and its CONNACK.
 */
export interface Row {
  v: 3 | 4 | 5
  name: string
  /** The statement checked: `[MQTT-x.y.z-n]` or a section, with the version where it matters. */
  spec: string
  script: string[]
  raw?: boolean
  /** Broker options for this row (default: createBroker's defaults). */
  options?: Partial<BrokerOptions>
}

export const CONNECT: Record<3 | 4 | 5, string> = {
  3: '10 0f 0006 4d5149736470 03 02 0000 0001 63',
  4: '10 0d 0004 4d515454 04 02 0000 0001 63',
  5: '10 10 0004 4d515454 05 02 0000 02 1700 0001 63',
}

/** The CONNACK to the standard CONNECT with the default options. */
export const CONNACK: Record<3 | 4 | 5, string> = {
  3: '20 02 00 00',
  4: '20 02 00 00',
  5: '20 09 00 00 06 21 0014 22 000a',
}

/** The label of a version in test names. */
export const VNAME = {3: 'v3.1', 4: 'v3.1.1', 5: 'v5'} as const

function bytes(s: string): Buffer {
  const clean = s.replace(/\s+/g, '')
  assert.match(clean, /^([0-9a-f]{2})*$/i, `not hex: ${s}`)
  return Buffer.from(clean, 'hex')
}

/** Whether a frame matches an expectation ('..' any byte, trailing '*' any rest). */
function matches(got: Buffer, want: string): boolean {
  const prefix = want.trimEnd().endsWith('*')
  const tokens = want.replace('*', '').replace(/\s+/g, '').match(/../g) ?? []
  if (prefix ? got.length < tokens.length : got.length !== tokens.length) return false
  return tokens.every((t, i) => t === '..' || Number.parseInt(t, 16) === got[i])
}

/** One client connection of a row, reading whole frames from the broker. */
class Peer {
  readonly frames: Buffer[] = []
  closed = false
  private wake: (() => void) | undefined
  readonly client

  constructor(broker: ReturnType<typeof createBroker>, private readonly deadline: number) {
    const [client, server] = duplexPair()
    this.client = client
    const framer = new FrameScanner(Number.MAX_SAFE_INTEGER)
    client.on('data', (chunk: Buffer) => {
      framer.push(chunk, (buf, start, _body, end) => { this.frames.push(Buffer.from(buf.subarray(start, end))) })
      this.wake?.()
    })
    const onClose = () => { this.closed = true; this.wake?.() }
    client.on('end', onClose)
    client.on('close', onClose)
    client.on('error', () => undefined)
    broker.handle(server, 'strict-peer')
  }

  /** Waits for a frame or the close (the 100 ms tick only checks the row's overall deadline). */
  private async changed(what: string): Promise<void> {
    if (Date.now() > this.deadline) assert.fail(`nothing from the broker; expected ${what}`)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 100)
      this.wake = () => { clearTimeout(timer); resolve() }
    })
  }

  async next(what: string): Promise<Buffer> {
    while (this.frames.length === 0) {
      if (this.closed) assert.fail(`the broker closed the connection; expected ${what}`)
      await this.changed(what)
    }
    return this.frames.shift()!
  }

  async close(): Promise<void> {
    while (!this.closed && this.frames.length === 0) await this.changed('the broker to close the connection')
    assert.equal(this.frames.length, 0, `expected a close, got ${this.frames[0]?.toString('hex')}`)
  }
}

/**
 * The options the rows' expected bytes depend on (the CONNACK's properties, the packet size limit),
 * pinned so that a change of a default elsewhere does not change every row; a row's own options win.
 */
const PINNED: Partial<BrokerOptions> = {
  maxPacketSize: 268_435_460, receiveMaximum: 20, topicAliasMaximum: 10, maxKeepalive: 65_535, maxQos: 2, retainAvailable: true,
  wildcardSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: true,
  allowZeroLengthClientId: true, messageSizeLimit: 0, sysInterval: 0,
}

/** Runs one row against a fresh broker, in-process. */
export async function runRow(row: Row): Promise<void> {
  const broker = createBroker({...PINNED, ...row.options})
  // one overall limit per row; nothing in a row waits on time otherwise
  const deadline = Date.now() + 5000
  let peer = new Peer(broker, deadline)
  try {
    // options may change the CONNACK's properties: rows with options only check it is a success
    const connack = row.options === undefined || row.v !== 5 ? CONNACK[row.v] : '20 .. 00 00 *'
    const script = row.raw ? row.script : [`> ${CONNECT[row.v]}`, `< ${connack}`, ...row.script]
    for (const step of script) {
      if (step.startsWith('>')) {
        if (!peer.closed) peer.client.write(bytes(step.slice(1)))
      } else if (step.startsWith('<')) {
        const got = await peer.next(step)
        assert.ok(matches(got, step.slice(1)), `at step '${step}': got ${got.toString('hex')}`)
      } else if (step === 'close') {
        await peer.close()
      } else if (step === 'new') {
        peer.client.destroy()
        peer = new Peer(broker, deadline)
      } else {
        assert.fail(`unknown step '${step}'`)
      }
    }
    if (script.at(-1) !== 'close') {
      peer.client.write(bytes('c0 00'))
      const got = await peer.next('PINGRESP (the connection open, nothing else sent)')
      assert.equal(got.toString('hex'), 'd000', 'expected PINGRESP and nothing before it')
    }
  } finally {
    peer.client.destroy()
    await broker.close()
  }
}

/** One node:test test per row, grouped under a title. */
export function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const row of rows) {
      test(`${VNAME[row.v]}: ${row.name} ${row.spec}`, () => runRow(row))
    }
  })
}

// --- building rows ----------------------------------------------------------------------------

/** A frame in hex: the first byte, the remaining length (computed), then the body parts (hex). */
export function f(first: number, ...body: string[]): string {
  const b = body.join('').replace(/\s+/g, '')
  let n = b.length / 2
  const len: string[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    len.push(byte.toString(16).padStart(2, '0'))
  } while (n > 0)
  return [first.toString(16).padStart(2, '0'), ...len, b].join(' ')
}

/** An MQTT string field in hex: two length bytes, then the text's UTF-8 (or the raw bytes given as hex with `0x`). */
export function s(text: string): string {
  const b = text.startsWith('0x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text)
  return b.length.toString(16).padStart(4, '0') + b.toString('hex')
}

/** A v5 property section in hex: its length (one byte here), then the properties. */
export function props(...p: string[]): string {
  const b = p.join('').replace(/\s+/g, '')
  return (b.length / 2).toString(16).padStart(2, '0') + b
}

/** The v5 DISCONNECT with this reason code and no properties (Request Problem Information 0). */
export function disconnect(code: number): string {
  return `< e0 02 ${code.toString(16).padStart(2, '0')} 00`
}

/** How a protocol violation ends: v5 DISCONNECT with the code, then close; v3: close. */
export function refused(v: 3 | 4 | 5, code: number): string[] {
  return v === 5 ? [disconnect(code), 'close'] : ['close']
}

export const V3: Array<3 | 4 | 5> = [3, 4]
export const ALL: Array<3 | 4 | 5> = [3, 4, 5]
