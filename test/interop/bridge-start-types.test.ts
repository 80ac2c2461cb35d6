// start_type once and lazy (threshold, idle_timeout), bridge_max_packet_size and local_username's
// ACL, with midge on both ends (library API) and mqtt.js clients.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {after, describe, it} from 'node:test'
import mqtt from 'mqtt'
import {createBroker, MemoryStore, parseAclFile, type Broker} from '../../src/index.js'
import {bridgeTopic} from '../../src/broker/bridge/index.js'
import {MemoryBacking} from '../../src/broker/store/memory.js'
import {engineOf} from '../../src/broker/internal.js'

async function eventually(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('bridge start types and limits', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined)
  })

  async function midge(options: Parameters<typeof createBroker>[0] = {}): Promise<{broker: Broker; url: string; port: number}> {
    const broker = createBroker(options)
    cleanup.push(() => broker.close())
    const {port} = await broker.listen({port: 0})
    return {broker, url: `mqtt://127.0.0.1:${port}`, port}
  }

  async function receiver(url: string, filter: string) {
    const c = await mqtt.connectAsync(url, {reconnectPeriod: 0})
    cleanup.push(() => c.endAsync(true))
    const got: string[] = []
    c.on('message', (_t, p) => got.push(p.toString()))
    await c.subscribeAsync(filter, {qos: 1})
    return got
  }

  it('once: connected at start, not restarted after the connection is lost', async () => {
    const remote = await midge()
    const local = await midge()
    const bridge = await local.broker.addBridge({name: 'once', startType: 'once', addresses: [{host: '127.0.0.1', port: remote.port}],
      topics: [bridgeTopic('o/#')], restartTimeout: {base: 1}})
    await eventually(() => bridge.state === 'connected', 'the connection')
    const lost = once(local.broker.events, 'bridgeDisconnected')
    await remote.broker.close()
    await lost
    assert.equal(bridge.state, 'stopped', 'no restart is scheduled')
    assert.equal(bridge.stats.connected, 0)
  })

  it('lazy: stopped after idle_timeout, started again once `threshold` messages wait (beyond its in-flight window too)', async () => {
    const remote = await midge()
    const got = await receiver(remote.url, 'lazy/#')
    const local = await midge({maxInflightMessages: 2})
    const bridge = await local.broker.addBridge({name: 'lazy', startType: 'lazy', threshold: 5, idleTimeout: 1,
      addresses: [{host: '127.0.0.1', port: remote.port}], topics: [bridgeTopic('lazy/#', 'out', 1)], restartTimeout: {base: 1}})
    await eventually(() => bridge.state === 'connected', 'the first connection (every start type connects at start)')
    await once(local.broker.events, 'bridgeDisconnected') // idle for idle_timeout
    assert.equal(bridge.state, 'idle')
    const pub = await mqtt.connectAsync(local.url, {reconnectPeriod: 0})
    cleanup.push(() => pub.endAsync(true))
    for (let i = 1; i <= 4; i++) await pub.publishAsync(`lazy/${i}`, `m${i}`, {qos: 1})
    await eventually(() => bridge.queued === 4, 'four messages waiting (2 held by the bridge, 2 queued in its session)')
    assert.equal(bridge.state, 'idle', 'below the threshold the bridge stays down')
    const up = once(local.broker.events, 'bridgeConnected')
    await pub.publishAsync('lazy/5', 'm5', {qos: 1})
    await up
    await eventually(() => got.length === 5, 'the five messages on the remote')
    assert.deepEqual(got, ['m1', 'm2', 'm3', 'm4', 'm5'])
  })

  it('bridge_max_packet_size: a larger message is not sent (counted as dropped), smaller ones are', async () => {
    const remote = await midge()
    const got = await receiver(remote.url, 'size/#')
    const local = await midge()
    const bridge = await local.broker.addBridge({name: 'size', maxPacketSize: 200, addresses: [{host: '127.0.0.1', port: remote.port}],
      topics: [bridgeTopic('size/#', 'out', 1)], notifications: false})
    await eventually(() => bridge.state === 'connected', 'the connection')
    const pub = await mqtt.connectAsync(local.url, {reconnectPeriod: 0})
    cleanup.push(() => pub.endAsync(true))
    await pub.publishAsync('size/big', Buffer.alloc(1000, 'b'), {qos: 1})
    await pub.publishAsync('size/small', 'small', {qos: 0})
    await pub.publishAsync('size/big0', Buffer.alloc(1000, 'c'), {qos: 0})
    await pub.publishAsync('size/marker', 'marker', {qos: 1})
    await eventually(() => got.includes('marker'), 'the marker')
    assert.deepEqual(got, ['small', 'marker'])
    assert.equal(bridge.stats.dropped, 2)
  })

  it('local_username: the bridge\'s local side is not authenticated (as in Mosquitto) but is subject to the ACL', async () => {
    const remote = await midge()
    const got = await receiver(remote.url, '#')
    const acl = parseAclFile('user bridge\ntopic read allowed/#\n')
    const local = await midge({auth: {
      // clients log in with user names: the publisher below is one; the bridge is not asked
      authenticate: (req) => req.username === 'publisher' ? true : 0x86,
      authorizeDeliver: (c, topic) => c.username === 'bridge' ? acl.canRead(c.clientId, c.username, topic) : true,
    }})
    const bridge = await local.broker.addBridge({name: 'acl', localUsername: 'bridge', addresses: [{host: '127.0.0.1', port: remote.port}],
      topics: [bridgeTopic('#', 'out', 1)], notifications: false})
    await eventually(() => bridge.state === 'connected', 'the connection')
    await assert.rejects(mqtt.connectAsync(local.url, {reconnectPeriod: 0}), /bad user name or password|Not authorized|Bad/i)
    const pub = await mqtt.connectAsync(local.url, {reconnectPeriod: 0, username: 'publisher'})
    cleanup.push(() => pub.endAsync(true))
    await pub.publishAsync('secret/x', 'no', {qos: 1})
    await pub.publishAsync('allowed/x', 'yes', {qos: 1})
    await eventually(() => got.includes('yes'), 'the allowed message')
    assert.deepEqual(got, ['yes'])
  })
})

describe('a bridge whose local connection is taken over', () => {
  it('reconnects its local side and carries messages both ways again', async () => {
    const remote = createBroker()
    const {port: remotePort} = await remote.listen({port: 0})
    const local = createBroker()
    const {port} = await local.listen({port: 0})
    const done: Array<() => Promise<unknown>> = [() => remote.close(), () => local.close()]
    try {
      const bridge = await local.addBridge({name: 'takeover', localClientId: 'bridge-local', addresses: [{host: '127.0.0.1', port: remotePort}],
        topics: [bridgeTopic('tk/#', 'both', 1)], restartTimeout: {base: 1}, notifications: false})
      await eventually(() => bridge.state === 'connected', 'the connection')
      const lost = once(local.events, 'bridgeDisconnected')
      const intruder = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0, clientId: 'bridge-local', clean: false})
      done.push(() => intruder.endAsync(true))
      await lost // the remote side starts over with the local one
      await eventually(() => bridge.state === 'connected' && engineOf(local).sessions.get('bridge-local')?.link !== undefined, 'the bridge back on both sides')
      const onRemote = await mqtt.connectAsync(`mqtt://127.0.0.1:${remotePort}`, {reconnectPeriod: 0})
      done.push(() => onRemote.endAsync(true))
      const gotRemote: string[] = []
      onRemote.on('message', (_t, p) => gotRemote.push(p.toString()))
      await onRemote.subscribeAsync('tk/#', {qos: 1})
      const onLocal = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0})
      done.push(() => onLocal.endAsync(true))
      const gotLocal: string[] = []
      onLocal.on('message', (_t, p) => gotLocal.push(p.toString()))
      await onLocal.subscribeAsync('tk/#', {qos: 1})
      await onLocal.publishAsync('tk/out', 'out', {qos: 1})
      await onRemote.publishAsync('tk/in', 'in', {qos: 1})
      await eventually(() => gotRemote.includes('out') && gotLocal.includes('in'), 'both messages across')
    } finally {
      for (const d of done.reverse()) await d().catch(() => undefined)
    }
  })
})

describe('messages waiting for a remote that is down', () => {
  it('are bounded by the queue limits of the bridge\'s local session, and the drops counted', async () => {
    const local = createBroker({maxInflightMessages: 2, maxQueuedMessages: 5})
    const {port} = await local.listen({port: 0})
    const dead = createBroker()
    const {port: deadPort} = await dead.listen({port: 0})
    await dead.close() // a port nobody listens on
    try {
      const bridge = await local.addBridge({name: 'bounded', addresses: [{host: '127.0.0.1', port: deadPort}], topics: [bridgeTopic('b/#', 'out', 1)],
        restartTimeout: {base: 60}, notifications: false})
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0})
      try {
        for (let i = 0; i < 20; i++) await pub.publishAsync('b/x', `m${i}`, {qos: 1})
      } finally {
        await pub.endAsync(true)
      }
      await eventually(() => bridge.queued === 7, '2 in flight to the bridge and 5 queued')
      assert.equal(engineOf(local).metrics.dropped['queue-full'], 13)
      assert.equal(bridge.stats.connected, 0)
    } finally {
      await local.close()
    }
  })
})

describe('a bridge whose topics changed between two runs (persistent local session)', () => {
  it('drops the subscriptions of the earlier configuration from its kept session', async () => {
    const backing = new MemoryBacking()
    let store = await MemoryStore.open(backing)
    const input = {name: 'changed', localClientId: 'bridge-changed', addresses: [{host: '127.0.0.1', port: 1}], restartTimeout: {base: 60}, notifications: false}
    const first = createBroker({store})
    await first.restore()
    await first.addBridge({...input, topics: [bridgeTopic('old/#', 'out', 1), bridgeTopic('kept/#', 'out', 1)]})
    await first.close()
    await store.close()
    store = await MemoryStore.open(backing) // as after a restart
    const second = createBroker({store})
    await second.restore()
    try {
      assert.deepEqual([...engineOf(second).sessions.get('bridge-changed')!.subscriptions.keys()].sort(), ['kept/#', 'old/#'])
      await second.addBridge({...input, topics: [bridgeTopic('kept/#', 'out', 1), bridgeTopic('new/#', 'out', 1)]})
      assert.deepEqual([...engineOf(second).sessions.get('bridge-changed')!.subscriptions.keys()].sort(), ['kept/#', 'new/#'])
    } finally {
      await second.close()
      await store.close()
    }
  })
})

describe('bridge_outgoing_retain false', () => {
  it('clears the retain flag of what goes to the remote, so the remote keeps no retained copy', async () => {
    const remote = createBroker()
    const {port: remotePort} = await remote.listen({port: 0})
    const local = createBroker()
    const {port} = await local.listen({port: 0})
    const done: Array<() => Promise<unknown>> = [() => remote.close(), () => local.close()]
    try {
      const bridge = await local.addBridge({name: 'noretain', outgoingRetain: false, addresses: [{host: '127.0.0.1', port: remotePort}],
        topics: [bridgeTopic('r/#', 'out', 1), bridgeTopic('k/#', 'in', 1)], notifications: false})
      await eventually(() => bridge.state === 'connected', 'the connection')
      const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${remotePort}`, {reconnectPeriod: 0})
      done.push(() => sub.endAsync(true))
      const got: string[] = []
      sub.on('message', (_t, p) => got.push(p.toString()))
      await sub.subscribeAsync('r/#', {qos: 1})
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0})
      done.push(() => pub.endAsync(true))
      await pub.publishAsync('r/1', 'kept locally only', {qos: 1, retain: true})
      await eventually(() => got.includes('kept locally only'), 'the message on the remote')
      assert.equal(engineOf(local).retained.match('r/#', Date.now()).length, 1)
      assert.equal(engineOf(remote).retained.match('r/#', Date.now()).length, 0)
    } finally {
      for (const d of done.reverse()) await d().catch(() => undefined)
    }
  })
})

describe('notifications', () => {
  for (const localOnly of [false, true]) {
    it(localOnly ? 'notifications_local_only: the state is published locally, not on the remote (nor its will)' : 'the state topic on both brokers, retained', async () => {
      const remote = createBroker()
      const {port: remotePort} = await remote.listen({port: 0})
      const local = createBroker()
      const {port} = await local.listen({port: 0})
      const done: Array<() => Promise<unknown>> = [() => remote.close(), () => local.close()]
      try {
        const bridge = await local.addBridge({name: 'n', remoteClientId: 'edge-n', notificationsLocalOnly: localOnly,
          addresses: [{host: '127.0.0.1', port: remotePort}], topics: [bridgeTopic('n/#', 'out', 1)]})
        await eventually(() => bridge.state === 'connected', 'the connection')
        const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${remotePort}`, {reconnectPeriod: 0})
        done.push(() => sub.endAsync(true))
        const got: string[] = []
        sub.on('message', (_t, p) => got.push(p.toString()))
        await sub.subscribeAsync('n/#', {qos: 1})
        const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0})
        done.push(() => pub.endAsync(true))
        await pub.publishAsync('n/1', 'after the state', {qos: 1})
        // the state went out on the same connection before this message: the remote has it by now, or never
        await eventually(() => got.includes('after the state'), 'the message')
        const state = (b: Broker) => engineOf(b).retained.match('$SYS/broker/connection/edge-n/state', Date.now()).map((m) => m.payload.toString())
        await eventually(() => state(local).join() === '1', 'the local state 1')
        assert.deepEqual(state(remote), localOnly ? [] : ['1'])
      } finally {
        for (const d of done.reverse()) await d().catch(() => undefined)
      }
    })
  }
})
