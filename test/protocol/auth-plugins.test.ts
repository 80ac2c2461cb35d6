// The plugin chain in front of the engine, in-process: the first plugin to decide wins, then the
// password file; errors, nonsense answers and time-outs refuse (fail closed) and are logged once; a
// hook that is still working holds only its own client; publish/subscribe/deliver checks, message
// interception, MQTT 5 authenticators from a plugin, and connect/disconnect notifications.
import assert from 'node:assert/strict'
import {describe, test, type TestContext} from 'node:test'
import {createPluginChain, type LoadedPlugin} from '../../src/broker/auth/plugins/chain.js'
import type {PluginHooks} from '../../src/broker/auth/plugins/types.js'
import type {ProtocolVersion} from '../../src/codec/index.js'
import {createFileAuth, testPasswords} from '../helpers/auth.js'
import {connackCode, startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'

const passwords = await testPasswords()

interface Line { level: string; obj: Record<string, unknown>; msg?: string }

function setup(t: TestContext, v: ProtocolVersion, plugins: Array<[string, PluginHooks]>, o: {passwordFile?: boolean; allowAnonymous?: boolean; timeoutMs?: number} = {}) {
  const lines: Line[] = []
  const at = (level: string) => (obj: object, msg?: string) => { lines.push({level, obj: obj as Record<string, unknown>, msg}) }
  const logger = {trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error')}
  const fallback = o.passwordFile ? createFileAuth({passwords}) : undefined
  const chain = createPluginChain({
    plugins: plugins.map(([name, hooks]): LoadedPlugin => ({name, hooks})), fallback,
    passwordFile: o.passwordFile ?? false, allowAnonymous: o.allowAnonymous ?? false, timeoutMs: o.timeoutMs ?? 5000, logger,
  })
  const broker = startBroker(t, {auth: chain.hooks, authenticators: chain.authenticators})
  chain.attach(broker)
  return {broker, chain, lines, wire: () => new Wire(broker, v), errors: () => lines.filter((l) => l.level === 'error')}
}

const login = (username?: string, password = 'pw', clientId = `c-${username}`) =>
  ({clientId, username, password: username === undefined ? undefined : Buffer.from(password)})

/** A promise and the function that settles it. */
function gate<T = void>() {
  let open!: (v: T) => void
  const promise = new Promise<T>((resolve) => { open = resolve })
  return {promise, open}
}

for (const v of VERSIONS) {
  const v5 = v === 5
  const BAD_LOGIN = v5 ? 0x86 : 4
  const NOT_AUTHORIZED = v5 ? 0x87 : 5
  const UNAVAILABLE = v5 ? 0x88 : 3

  describe(`plugin chain ${versionName(v)}`, () => {
    test('the first plugin that decides wins; abstaining passes the question on, then to the password file', async (t) => {
      const {wire} = setup(t, v, [
        ['first', {authenticate: ({username}) => (username === 'evil' ? false : username === 'banned' ? 0x8a : undefined)}],
        ['second', {authenticate: ({username}) => (username === 'ok' || username === 'evil' ? true : undefined)}],
      ], {passwordFile: true})
      assert.equal(connackCode(await wire().connect(login('ok'))), 0)
      assert.equal(connackCode(await wire().connect(login('evil'))), BAD_LOGIN, 'the first plugin refused before the second could accept')
      if (v5) assert.equal(connackCode(await wire().connect(login('banned'))), 0x8a, 'a plugin chooses the reason code')
      assert.equal(connackCode(await wire().connect(login('alice', 'secret'))), 0, 'nobody decided: the password file accepts alice')
      assert.equal(connackCode(await wire().connect(login('alice', 'wrong'))), BAD_LOGIN)
    })

    test('when no plugin decides and there is no password file, the client is refused (anonymous ones only with allowAnonymous)', async (t) => {
      const closed = setup(t, v, [['abstains', {authenticate: () => undefined}]])
      assert.equal(connackCode(await closed.wire().connect(login('someone'))), BAD_LOGIN)
      assert.equal(connackCode(await closed.wire().connect({clientId: 'anon'})), NOT_AUTHORIZED)
      const open = setup(t, v, [['abstains', {authenticate: () => undefined}]], {allowAnonymous: true})
      assert.equal(connackCode(await open.wire().connect({clientId: 'anon'})), 0)
      assert.equal(connackCode(await open.wire().connect(login('someone'))), BAD_LOGIN, 'allowAnonymous does not let unknown users in')
    })

    test('a plugin that throws refuses (fail closed), is logged once, and its recovery is logged', async (t) => {
      let broken = true
      const {wire, errors, lines} = setup(t, v, [['flaky', {authenticate: () => { if (broken) throw new Error('database gone'); return true }}]])
      assert.equal(connackCode(await wire().connect(login('a'))), UNAVAILABLE)
      assert.equal(connackCode(await wire().connect(login('b'))), UNAVAILABLE)
      assert.equal(errors().length, 1, 'one line for the run of failures')
      assert.equal(errors()[0].obj.plugin, 'flaky')
      assert.match(errors()[0].msg!, /flaky: authenticate failed: database gone/)
      broken = false
      assert.equal(connackCode(await wire().connect(login('c'))), 0)
      assert.ok(lines.some((l) => l.level === 'info' && /flaky answers again after 2 failed calls/.test(l.msg!)))
    })

    test('a plugin that answers nonsense or rejects refuses', async (t) => {
      const {wire, errors} = setup(t, v, [
        ['nonsense', {authenticate: ({username}) => (username === 'n' ? ('yes' as unknown as boolean) : undefined)}],
        ['rejects', {authenticate: async () => { throw new Error('no') }}],
      ])
      assert.equal(connackCode(await wire().connect(login('n'))), UNAVAILABLE)
      assert.equal(connackCode(await wire().connect(login('r'))), UNAVAILABLE)
      assert.deepEqual(errors().map((e) => e.obj.plugin), ['nonsense', 'rejects'])
      assert.match(errors()[0].msg!, /answered 'yes'/)
    })

    test('a plugin that never answers runs out of time and refuses', async (t) => {
      const {wire, errors} = setup(t, v, [['silent', {authenticate: () => new Promise<boolean>(() => undefined)}]], {timeoutMs: 50})
      assert.equal(connackCode(await wire().connect(login('x'))), UNAVAILABLE)
      assert.match(errors()[0].msg!, /silent: authenticate failed: no answer within 50 ms/)
    })

    test('a hook still working holds only its own client: another client connects, subscribes and gets a message meanwhile', async (t) => {
      const called = gate()
      const verdict = gate<boolean>()
      const {wire} = setup(t, v, [['slow', {authenticate: ({username}) => {
        if (username !== 'slow') return true
        called.open()
        return verdict.promise
      }}]])
      const slow = wire()
      const slowConnack = slow.connect(login('slow'))
      await called.promise
      const other = wire()
      assert.equal(connackCode(await other.connect(login('fast'))), 0)
      await other.subscribe('t', 1)
      other.publish('t', 'round trip', 1)
      const packets = await other.take(2)
      assert.deepEqual(packets.map((p) => p.cmd).sort(), ['puback', 'publish'])
      assert.equal(slow.buffered.length, 0, 'the slow client is still waiting for its verdict')
      verdict.open(true)
      assert.equal(connackCode(await slowConnack), 0)
    })

    test('publish, subscribe and delivery checks: first decision wins, a promise from authorizeDeliver refuses', async (t) => {
      const {wire, errors} = setup(t, v, [['rules', {
        authorizePublish: async ({topic, username}) => topic.startsWith(`${username}/`) || ['hidden', 'lazy'].includes(topic) ? true : topic === 'pass' ? undefined : false,
        authorizeSubscribe: ({filter}) => filter !== 'secret/#',
        authorizeDeliver: ({topic}) => (topic === 'open' ? true : topic === 'lazy' ? (Promise.resolve(true) as unknown as boolean) : topic !== 'hidden'),
      }]])
      const sub = wire()
      await sub.connect(login('s'))
      const suback = await sub.subscribe(['#', 'secret/#'], 0)
      assert.deepEqual(suback.granted, [0, v5 ? 0x87 : 0x80])
      const pub = wire()
      await pub.connect(login('p'))
      pub.publish('other/x', 'refused', 1, {messageId: 1})
      const ack = await pub.expect('puback')
      if (v5) assert.equal(ack.reasonCode, 0x87)
      pub.publish('pass', 'nobody decided: no ACL file, allowed', 0)
      pub.publish('hidden', 'not for the subscriber', 0)
      pub.publish('lazy', 'a promise from authorizeDeliver', 0)
      pub.publish('p/own', 'allowed', 0)
      const got = await sub.take(2)
      assert.deepEqual(got.map((p) => (p as {topic: string}).topic), ['pass', 'p/own'])
      await sub.quiet()
      assert.ok(errors().some((e) => e.obj.hook === 'authorizeDeliver' && /promise/.test(e.msg!)))
    })

    test('interceptPublish rewrites or rejects a message before it is routed', async (t) => {
      const {wire} = setup(t, v, [
        ['stamp', {interceptPublish: ({client, message}) => message.topic === 'in' ? {topic: 'out', payload: Buffer.from(`${client.clientId}:${message.payload}`)} : undefined}],
        ['censor', {interceptPublish: async ({message}) => !message.payload.includes('forbidden')}],
      ])
      const sub = wire()
      await sub.connect(login('s'))
      await sub.subscribe('#', 0)
      const pub = wire()
      await pub.connect(login('p'))
      pub.publish('in', 'hello', 0)
      const out = await sub.expect('publish')
      assert.equal(out.topic, 'out')
      assert.equal(out.payload.toString(), 'c-p:hello')
      pub.publish('x', 'forbidden words', 1, {messageId: 2})
      const ack = await pub.expect('puback')
      if (v5) assert.equal(ack.reasonCode, 0x87)
      await sub.quiet()
    })

    test('plugins hear connects and disconnects', async (t) => {
      const seen: string[] = []
      const gone = gate()
      const {wire} = setup(t, v, [['audit', {
        onConnect: ({clientId}) => { seen.push(`+${clientId}`) },
        onDisconnect: ({clientId, reason}) => { seen.push(`-${clientId} ${reason}`); gone.open() },
      }]])
      const w = wire()
      await w.connect(login('u'))
      w.send({cmd: 'disconnect'})
      await gone.promise
      assert.deepEqual(seen, ['+c-u', '-c-u client disconnected'])
    })
  })
}

test('a plugin can bring an MQTT 5 authentication method; a step that never answers fails closed', async (t) => {
  const {wire} = setup(t, 5, [['token', {authenticators: [{
    method: 'TOKEN',
    begin: () => ({next: (data) => data?.toString() === 'hang' ? new Promise(() => undefined) : data?.toString() === 'good' ? {status: 'success'} : {status: 'failure'}}),
  }]}]], {timeoutMs: 50})
  const connect = (data: string) => wire().connect({clientId: `t-${data}`, properties: {authenticationMethod: 'TOKEN', authenticationData: Buffer.from(data)}})
  assert.equal(connackCode(await connect('good')), 0)
  assert.equal(connackCode(await connect('bad')), 0x87)
  assert.equal(connackCode(await connect('hang')), 0x88)
})
