// The client against a scripted in-memory peer: exact packets, flow control and failure paths.
import assert from 'node:assert/strict'
import {Duplex, PassThrough} from 'node:stream'
import {describe, it} from 'node:test'
import {encodePacket, PacketDecoder, ReasonCode, type Packet, type ProtocolVersion} from '../../src/codec/index.js'
import {connect, ConnectError, ConnectionLostError, ConnectionRefusedError, type MqttClient} from '../../src/client/index.js'

/** The broker side of an in-memory connection: decoded packets in, encoded packets out. */
class Peer {
  readonly received: Packet[] = []
  private waiters: Array<() => void> = []
  readonly clientSide: Duplex
  private readonly serverSide: Duplex
  private readonly decoder: PacketDecoder
  /** Settles when the client ends its side of the stream: nothing it writes can arrive after. */
  readonly ended: Promise<void>

  constructor(readonly version: ProtocolVersion) {
    const toServer = new PassThrough()
    const toClient = new PassThrough()
    this.clientSide = Duplex.from({readable: toClient, writable: toServer})
    this.serverSide = Duplex.from({readable: toServer, writable: toClient})
    this.serverSide.on('error', () => {}) // destroying one side aborts the other
    this.ended = new Promise((resolve) => this.serverSide.once('end', resolve))
    this.decoder = new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion: version})
    this.serverSide.on('data', (chunk: Buffer) => this.decoder.push(chunk, (p) => {
      this.received.push(p)
      for (const w of this.waiters.splice(0)) w()
    }))
  }

  send(packet: Packet): void { this.serverSide.write(encodePacket(packet, this.version)) }
  close(): void { this.serverSide.destroy() }

  async next(cmd: string, match: (p: Packet) => boolean = () => true): Promise<Packet> {
    for (;;) {
      const i = this.received.findIndex((p) => p.cmd === cmd && match(p))
      if (i >= 0) return this.received.splice(i, 1)[0]
      await new Promise<void>((r) => this.waiters.push(r))
    }
  }

  async connect(options: Parameters<typeof connect>[0] = {}, connack: Partial<Packet> = {}): Promise<MqttClient> {
    const pending = connect({protocolVersion: this.version, transport: async () => this.clientSide, ...options})
    await this.next('connect')
    this.send({cmd: 'connack', sessionPresent: false, ...(this.version === 5 ? {reasonCode: 0} : {returnCode: 0}), ...connack} as Packet)
    return pending
  }
}

describe('client against an in-memory peer', () => {
  for (const version of [3, 4, 5] as const) {
    it(`v${version}: CONNECT carries the options; acks are matched by packet id in any order`, async () => {
      const peer = new Peer(version)
      const pending = connect({protocolVersion: version, transport: async () => peer.clientSide, clientId: 'c1', keepalive: 7,
        username: 'u', password: 'p', will: {topic: 'w', payload: 'gone', qos: 1, retain: true}})
      const c = await peer.next('connect') as Extract<Packet, {cmd: 'connect'}>
      assert.equal(c.clientId, 'c1')
      assert.equal(c.keepalive, 7)
      assert.equal(c.protocolVersion, version)
      assert.equal(c.username, 'u')
      assert.equal(c.password?.toString(), 'p')
      assert.equal(c.will?.topic, 'w')
      assert.equal(c.will?.retain, true)
      peer.send({cmd: 'connack', sessionPresent: false, ...(version === 5 ? {reasonCode: 0} : {returnCode: 0})} as Packet)
      const client = await pending
      const a = client.publish('t', 'a', {qos: 1})
      const b = client.publish('t', 'b', {qos: 1})
      const pa = await peer.next('publish')
      const pb = await peer.next('publish')
      assert.notEqual(pa.messageId, pb.messageId)
      peer.send({cmd: 'puback', messageId: pb.messageId, ...(version === 5 ? {reasonCode: ReasonCode.NotAuthorized} : {})} as Packet)
      peer.send({cmd: 'puback', messageId: pa.messageId} as Packet)
      assert.equal((await a).reasonCode, 0)
      assert.equal((await b).reasonCode, version === 5 ? ReasonCode.NotAuthorized : 0)
      const done = client.disconnect()
      await peer.next('disconnect')
      peer.close()
      await done
    })
  }

  it('honours the broker Receive Maximum: never more than that many QoS 1 publishes unacked', async () => {
    const peer = new Peer(5)
    const client = await peer.connect({}, {properties: {receiveMaximum: 2}} as Partial<Packet>)
    assert.equal(client.inflightLimit, 2)
    const acks = Array.from({length: 5}, (_, i) => client.publish('t', String(i), {qos: 1}))
    // a barrier: QoS 0 is outside the window and goes at once; once it is here, so is every PUBLISH sent before it
    void client.publish('marker', '', {qos: 0})
    await peer.next('publish', (p) => (p as Extract<Packet, {cmd: 'publish'}>).topic === 'marker')
    assert.equal(peer.received.filter((p) => p.cmd === 'publish').length, 2)
    for (let i = 0; i < 5; i++) {
      const p = await peer.next('publish') as Extract<Packet, {cmd: 'publish'}>
      assert.equal(p.payload.toString(), String(i))
      peer.send({cmd: 'puback', messageId: p.messageId, reasonCode: 0} as Packet)
    }
    assert.deepEqual((await Promise.all(acks)).map((a) => a.reasonCode), [0, 0, 0, 0, 0])
    client.destroy()
  })

  it('QoS 2 out: PUBLISH, PUBREC, PUBREL, PUBCOMP; a PUBREC refusal ends the flow', async () => {
    const peer = new Peer(5)
    const client = await peer.connect()
    const ok = client.publish('t', 'x', {qos: 2})
    const p1 = await peer.next('publish')
    peer.send({cmd: 'pubrec', messageId: p1.messageId, reasonCode: ReasonCode.NoMatchingSubscribers} as Packet)
    const rel = await peer.next('pubrel')
    assert.equal(rel.messageId, p1.messageId)
    peer.send({cmd: 'pubcomp', messageId: p1.messageId, reasonCode: 0} as Packet)
    assert.equal((await ok).reasonCode, ReasonCode.NoMatchingSubscribers)
    const refused = client.publish('t', 'y', {qos: 2})
    const p2 = await peer.next('publish')
    peer.send({cmd: 'pubrec', messageId: p2.messageId, reasonCode: ReasonCode.QuotaExceeded, properties: {reasonString: 'full'}} as Packet)
    assert.deepEqual(await refused, {reasonCode: ReasonCode.QuotaExceeded, reasonString: 'full'})
    client.destroy()
  })

  it('QoS 2 in: delivered once even when the PUBLISH is resent before PUBREL', async () => {
    const peer = new Peer(4)
    const client = await peer.connect()
    const got: string[] = []
    client.onMessage((m) => got.push(m.payload.toString()))
    peer.send({cmd: 'publish', topic: 't', payload: Buffer.from('once'), qos: 2, messageId: 9, retain: false, dup: false})
    peer.send({cmd: 'publish', topic: 't', payload: Buffer.from('once'), qos: 2, messageId: 9, retain: false, dup: true})
    assert.equal((await peer.next('pubrec')).messageId, 9)
    assert.equal((await peer.next('pubrec')).messageId, 9)
    peer.send({cmd: 'pubrel', messageId: 9} as Packet)
    assert.equal((await peer.next('pubcomp')).messageId, 9)
    assert.deepEqual(got, ['once'])
    client.destroy()
  })

  it('messages arriving before a consumer attaches are kept; QoS 1 is acked', async () => {
    const peer = new Peer(5)
    const client = await peer.connect()
    peer.send({cmd: 'publish', topic: 'a', payload: Buffer.from('1'), qos: 1, messageId: 3, retain: true, dup: false})
    assert.equal((await peer.next('puback')).messageId, 3)
    const it = client.messages()
    const first = await it.next()
    assert.equal(first.value?.topic, 'a')
    assert.equal(first.value?.retain, true)
    const end = client.disconnect()
    await peer.next('disconnect')
    peer.close()
    await end
    assert.equal((await it.next()).done, true)
  })

  it('packets in the same chunk as CONNACK are handled (a session with queued messages)', async () => {
    const peer = new Peer(5)
    const pending = connect({transport: async () => peer.clientSide})
    await peer.next('connect')
    const connack = encodePacket({cmd: 'connack', sessionPresent: true, reasonCode: 0}, 5)
    const queued = encodePacket({cmd: 'publish', topic: 'q', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false}, 5)
    ;(peer as unknown as {serverSide: Duplex}).serverSide.write(Buffer.concat([connack, queued]))
    const client = await pending
    assert.equal((await peer.next('puback')).messageId, 1)
    assert.equal((await client.messages().next()).value?.topic, 'q')
    assert.ok(client.connected)
    client.destroy()
  })

  it('disconnect lets an inbound QoS 2 flow finish first, and sends nothing after DISCONNECT', async () => {
    const hold = setInterval(() => {}, 1000)
    const peer = new Peer(5)
    const client = await peer.connect()
    client.onMessage(() => {})
    peer.send({cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 2, messageId: 5, retain: false, dup: false})
    await peer.next('pubrec')
    const done = client.disconnect()
    // a barrier: a QoS 1 PUBLISH's PUBACK comes after whatever disconnect() wrote at once
    peer.send({cmd: 'publish', topic: 't', payload: Buffer.from('w'), qos: 1, messageId: 4, retain: false, dup: false})
    await peer.next('puback')
    assert.equal(peer.received.some((p) => p.cmd === 'disconnect'), false)
    peer.send({cmd: 'pubrel', messageId: 5} as Packet)
    await peer.next('disconnect')
    assert.deepEqual(peer.received.map((p) => p.cmd), ['pubcomp'])
    peer.send({cmd: 'publish', topic: 't', payload: Buffer.from('y'), qos: 1, messageId: 6, retain: false, dup: false})
    await peer.ended // the client's side of the stream is over: nothing more can come
    assert.equal(peer.received.some((p) => p.cmd === 'puback'), false)
    peer.close()
    await done
    clearInterval(hold)
  })

  it('resolves topic aliases the broker sets', async () => {
    const peer = new Peer(5)
    const client = await peer.connect()
    const it = client.messages()
    peer.send({cmd: 'publish', topic: 'long/topic', payload: Buffer.from('1'), qos: 0, retain: false, dup: false, properties: {topicAlias: 1}})
    peer.send({cmd: 'publish', topic: '', payload: Buffer.from('2'), qos: 0, retain: false, dup: false, properties: {topicAlias: 1}})
    assert.equal((await it.next()).value?.topic, 'long/topic')
    assert.equal((await it.next()).value?.topic, 'long/topic')
    client.destroy()
  })

  it('refused CONNACK throws ConnectionRefusedError with the code and the reason in words', async () => {
    const peer = new Peer(5)
    const pending = connect({transport: async () => peer.clientSide})
    await peer.next('connect')
    peer.send({cmd: 'connack', sessionPresent: false, reasonCode: ReasonCode.NotAuthorized, properties: {reasonString: 'go away'}})
    await assert.rejects(pending, (e: Error) => e instanceof ConnectionRefusedError && e.reasonCode === 0x87 && e.message === 'connection refused: not authorized (go away)')
  })

  it('v3 refusal carries the return code', async () => {
    const peer = new Peer(4)
    const pending = connect({protocolVersion: 4, transport: async () => peer.clientSide})
    await peer.next('connect')
    peer.send({cmd: 'connack', sessionPresent: false, returnCode: 5})
    await assert.rejects(pending, (e: Error) => e instanceof ConnectionRefusedError && e.reasonCode === 5 && /not authorized/.test(e.message))
  })

  it('no CONNACK within the timeout is a ConnectError', async () => {
    const peer = new Peer(5)
    await assert.rejects(connect({transport: async () => peer.clientSide, connectTimeout: 50}), (e: Error) => e instanceof ConnectError && /timed out/.test(e.message))
  })

  it('a lost connection fails pending publishes and resolves `closed` with ConnectionLostError', async () => {
    const peer = new Peer(5)
    const client = await peer.connect()
    const pending = client.publish('t', 'x', {qos: 1})
    await peer.next('publish')
    peer.close()
    await assert.rejects(pending, ConnectionLostError)
    assert.ok((await client.closed) instanceof ConnectionLostError)
  })

  it('a v5 DISCONNECT from the broker is a ConnectionLostError with its reason code', async () => {
    const peer = new Peer(5)
    const client = await peer.connect()
    peer.send({cmd: 'disconnect', reasonCode: ReasonCode.SessionTakenOver})
    const error = await client.closed
    assert.ok(error instanceof ConnectionLostError)
    assert.equal(error.reasonCode, ReasonCode.SessionTakenOver)
    assert.match(error.message, /session taken over/)
  })

  it('pings when idle and declares the link dead when pings go unanswered', async () => {
    const peer = new Peer(4)
    const hold = setInterval(() => {}, 1000) // a socket would keep the process alive; in-memory streams do not
    const client = await peer.connect({keepalive: 1})
    await peer.next('pingreq')
    peer.send({cmd: 'pingresp'})
    await peer.next('pingreq')
    const error = await client.closed
    assert.ok(error instanceof ConnectionLostError)
    assert.match(error.message, /PINGREQ/)
    clearInterval(hold)
  })

  it('disconnect sends the reason code and properties (v5)', async () => {
    const peer = new Peer(5)
    const client = await peer.connect()
    const done = client.disconnect({reasonCode: ReasonCode.DisconnectWithWill, properties: {sessionExpiryInterval: 5}})
    const d = await peer.next('disconnect') as Extract<Packet, {cmd: 'disconnect'}>
    assert.equal(d.reasonCode, ReasonCode.DisconnectWithWill)
    assert.equal(d.properties?.sessionExpiryInterval, 5)
    peer.close()
    await done
    assert.equal(await client.closed, undefined)
  })
})
