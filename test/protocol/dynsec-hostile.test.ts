// Hostile input on $CONTROL/dynamic-security/v1, against an engine with Dynamic Security on a real TCP
// listener, driven by the `mqtt` package (v5): a non-admin is refused and gets no answer, garbage gets
// the plugin's error answers, a huge request is answered, a failing save is logged and answered, and
// the broker keeps serving; $CONTROL messages never reach subscribers.
import assert from 'node:assert/strict'
import {describe, it, type TestContext} from 'node:test'
import mqtt, {type MqttClient} from 'mqtt'
import {createBroker, Dynsec, dynsecHooks, parseDynsecFile} from '../../src/index.js'
import {newPassword, serializeDynsec} from '../../src/broker/dynsec/index.js'
import type {Logger} from '../../src/broker/logger.js'

const ADMIN_ACLS = [['publishClientSend', '$CONTROL/dynamic-security/#'], ['publishClientReceive', '$CONTROL/dynamic-security/#'], ['subscribePattern', '$CONTROL/dynamic-security/#']]

function configuration(): string {
  const {state} = parseDynsecFile(JSON.stringify({
    defaultACLAccess: {publishClientSend: true, publishClientReceive: true, subscribe: true, unsubscribe: true},
    roles: [{rolename: 'admin', acls: ADMIN_ACLS.map(([acltype, topic]) => ({acltype, topic, allow: true}))}],
  }))
  for (const [username, password, roles] of [['admin', 'admin-pw', [{name: 'admin', priority: -1}]], ['user', 'user-pw', []]] as const) {
    state.clients.set(username, {username, password: newPassword(password), disabled: false, roles: [...roles], groups: []})
  }
  return serializeDynsec(state)
}

async function setup(t: TestContext, save: (text: string) => Promise<void> = async () => {}) {
  const errors: string[] = []
  const logger: Logger = {trace() {}, debug() {}, info() {}, warn() {}, error(_o, msg) { errors.push(String(msg)) }}
  const dynsec = new Dynsec({state: parseDynsecFile(configuration()).state, save, logger})
  // a packet size above the 2 MB default, so that a huge JSON request reaches Dynamic Security
  const broker = createBroker({auth: dynsecHooks(dynsec, {allowAnonymous: true}), logger, maxPacketSize: 16 * 1024 * 1024})
  dynsec.attach(broker)
  const {port} = await broker.listen({port: 0})
  const clients: MqttClient[] = []
  t.after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
    await broker.close()
  })
  const connect = async (username?: string, password?: string) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {protocolVersion: 5, reconnectPeriod: 0, username, password})
    clients.push(c)
    await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject) })
    return c
  }
  /** Publishes a request as `c` and returns the next response payload. */
  const ask = async (c: MqttClient, payload: string | Buffer) => {
    const answer = new Promise<Record<string, unknown>>((resolve) => c.once('message', (_t, p) => resolve(JSON.parse(p.toString()))))
    await c.publishAsync('$CONTROL/dynamic-security/v1', payload, {qos: 1})
    return answer
  }
  return {broker, dynsec, errors, connect, ask}
}

describe('dynsec: hostile input on the control topic', () => {
  it('garbage gets the plugin\'s error answers, and the broker keeps serving', async (t) => {
    const {connect, ask} = await setup(t)
    const admin = await connect('admin', 'admin-pw')
    await admin.subscribeAsync('$CONTROL/dynamic-security/v1/response', {qos: 1})
    assert.deepEqual(await ask(admin, 'not json at all'), {responses: [{command: 'Unknown command', error: 'Payload not valid JSON'}]})
    assert.deepEqual(await ask(admin, Buffer.from([0xff, 0xfe, 0x00, 0x7b])), {responses: [{command: 'Unknown command', error: 'Payload not valid JSON'}]})
    assert.deepEqual(await ask(admin, '{"commands": [{"command": "dropDatabase"}]}'), {responses: [{command: 'dropDatabase', error: 'Unknown command'}]})
    const huge = JSON.stringify({commands: [{command: 'createClient', username: 'big', textname: 'x'.repeat(4 * 1024 * 1024)}]})
    assert.deepEqual(await ask(admin, huge), {responses: [{command: 'createClient'}]})
    assert.deepEqual(await ask(admin, '{"commands": [{"command": "listClients"}]}'),
      {responses: [{command: 'listClients', data: {totalCount: 3, clients: ['admin', 'big', 'user']}}]})
  })

  it('a client without the admin role is refused (v5 PUBACK 0x87), answered nothing, and changes nothing', async (t) => {
    const {connect, ask, dynsec} = await setup(t)
    const user = await connect('user', 'user-pw')
    const anonymous = await connect()
    for (const c of [user, anonymous]) {
      const granted = await new Promise((resolve) => {
        c.subscribe('$CONTROL/dynamic-security/v1/response', {qos: 1}, (err, g) => resolve(err ? err.message : g![0].qos))
      })
      assert.equal(granted, 'Subscribe error: Not authorized') // the default never opens $CONTROL
      const ack = await new Promise<number | undefined>((resolve) => {
        c.publish('$CONTROL/dynamic-security/v1', '{"commands":[{"command":"createRole","rolename":"pwned"}]}', {qos: 1}, (err) => resolve((err as {code?: number} | undefined)?.code))
      })
      assert.equal(ack, 135)
    }
    const admin = await connect('admin', 'admin-pw')
    await admin.subscribeAsync('$CONTROL/dynamic-security/v1/response', {qos: 1})
    assert.deepEqual(await ask(admin, '{"commands":[{"command":"listRoles"}]}'), {responses: [{command: 'listRoles', data: {totalCount: 1, roles: ['admin']}}]})
    assert.equal(dynsec.state.roles.has('pwned'), false)
  })

  it('$CONTROL messages are never routed to subscribers, even with the rights to read them', async (t) => {
    const {connect} = await setup(t)
    const admin = await connect('admin', 'admin-pw')
    const reader = await connect()
    const seen: string[] = []
    reader.on('message', (topic) => seen.push(topic))
    await reader.subscribeAsync('#', {qos: 1})
    await admin.publishAsync('$CONTROL/dynamic-security/v1', '{"commands":[]}', {qos: 1})
    await admin.publishAsync('$CONTROL/other/v1', 'x', {qos: 1}).catch(() => undefined)
    const done = new Promise((resolve) => reader.on('message', (topic) => topic === 'after' && resolve(undefined)))
    await reader.publishAsync('after', 'x', {qos: 1})
    await done
    assert.deepEqual(seen, ['after'])
  })

  it('a save that fails is logged; the change is answered and stays in force', async (t) => {
    const {connect, ask, errors, dynsec} = await setup(t, async () => { throw new Error('ENOSPC: no space left on device') })
    const admin = await connect('admin', 'admin-pw')
    await admin.subscribeAsync('$CONTROL/dynamic-security/v1/response', {qos: 1})
    assert.deepEqual(await ask(admin, '{"commands":[{"command":"createGroup","groupname":"g"}]}'), {responses: [{command: 'createGroup'}]})
    assert.ok(dynsec.state.groups.has('g'))
    assert.match(errors.join('\n'), /cannot save the configuration: ENOSPC/)
  })
})
