// The client's manual acknowledgements and bridge bit (used by bridges): QoS 1/2 messages are
// acknowledged only by ack(); a QoS 2 resend before that is not delivered twice nor answered; the
// bridge bit sets 0x80 on a v3.x protocol level.
import assert from 'node:assert/strict'
import {Duplex, PassThrough} from 'node:stream'
import {describe, it} from 'node:test'
import {encodePacket, PacketDecoder, type Packet, type PublishPacket} from '../../src/codec/index.js'
import {connect, type Message} from '../../src/client/index.js'

/** A scripted broker: what the client sends, raw and decoded. */
function peer(version: 4 | 5) {
  const toServer = new PassThrough()
  const toClient = new PassThrough()
  const clientSide = Duplex.from({readable: toClient, writable: toServer})
  const received: Packet[] = []
  const raw: Buffer[] = []
  const decoder = new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion: version})
  let wake: (() => void) | undefined
  toServer.on('data', (chunk: Buffer) => {
    raw.push(chunk)
    decoder.push(chunk, (p) => { received.push(p); wake?.() })
  })
  const send = (p: Packet) => toClient.write(encodePacket(p, version))
  const next = async (cmd: string): Promise<Packet> => {
    for (;;) {
      const i = received.findIndex((p) => p.cmd === cmd)
      if (i >= 0) return received.splice(i, 1)[0]
      await new Promise<void>((r) => { wake = r })
    }
  }
  return {clientSide, received, raw, send, next}
}

describe('client manual acks and the bridge bit', () => {
  for (const version of [4, 5] as const) {
    it(`v${version}: QoS 1 and 2 are acknowledged by ack(), not on arrival; a QoS 2 resend is neither delivered nor answered before it`, async () => {
      const p = peer(version)
      const pending = connect({protocolVersion: version, transport: async () => p.clientSide, manualAck: true})
      await p.next('connect')
      p.send({cmd: 'connack', sessionPresent: false, ...(version === 5 ? {reasonCode: 0} : {returnCode: 0})} as Packet)
      const client = await pending
      const got: Message[] = []
      client.onMessage((m) => got.push(m))
      const publish = (qos: 1 | 2, messageId: number, dup = false) =>
        p.send({cmd: 'publish', topic: 't', payload: Buffer.from(`q${qos}`), qos, messageId, dup, retain: false} as PublishPacket)
      publish(1, 1)
      publish(2, 2)
      publish(2, 2, true) // resent before we acked
      p.send({cmd: 'publish', topic: 'marker', payload: Buffer.from('m'), qos: 0, dup: false, retain: false} as PublishPacket)
      // once the marker is delivered the three before it were handled; a SUBSCRIBE sent now follows any ack they caused
      while (got.length < 3) await new Promise((r) => setImmediate(r))
      void client.subscribe([{topic: 'x'}]).catch(() => undefined)
      await p.next('subscribe')
      assert.deepEqual(got.map((m) => m.payload.toString()), ['q1', 'q2', 'm'])
      assert.deepEqual(p.received.map((x) => x.cmd), [], 'nothing acknowledged yet')
      client.ack(got[0])
      client.ack(got[1])
      assert.equal((await p.next('puback')).messageId, 1)
      assert.equal((await p.next('pubrec')).messageId, 2)
      publish(2, 2, true) // resent after PUBREC: answered again, not delivered again
      assert.equal((await p.next('pubrec')).messageId, 2)
      p.send({cmd: 'pubrel', messageId: 2} as Packet)
      assert.equal((await p.next('pubcomp')).messageId, 2)
      assert.equal(got.length, 3)
      client.destroy()
    })
  }

  it('bridgeMode sets 0x80 on a v3.1.1 protocol level, and not on v5', async () => {
    for (const [version, level] of [[4, 0x84], [5, 0x05]] as const) {
      const p = peer(version)
      const pending = connect({protocolVersion: version, transport: async () => p.clientSide, bridgeMode: true, connectTimeout: 5000})
      await p.next('connect')
      const bytes = Buffer.concat(p.raw)
      assert.equal(bytes[8], level) // fixed header (2), protocol name (2 + 4 bytes "MQTT")
      p.send({cmd: 'connack', sessionPresent: false, ...(version === 5 ? {reasonCode: 0} : {returnCode: 0})} as Packet)
      ;(await pending).destroy()
    }
  })
})
