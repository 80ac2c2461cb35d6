// `midge rr` against a responder written on our client library, on Debian's mosquitto and on our own
// broker, side by side with Debian's mosquitto_rr talking to the same responder.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {after, before, describe, it} from 'node:test'
import {connect, type Message} from '../../src/client/index.js'
import {runMidge} from '../helpers/cli.js'
import {hasMosquitto, startMosquitto} from '../helpers/mosquitto.js'

interface Target { host: string; port: number; stop(): Promise<void> }
const BROKERS: Array<{name: string; start(): Promise<Target>}> = [
  {name: 'mosquitto', start: () => startMosquitto()},
  {name: 'midge', start: async () => {
    const {createBroker} = await import('../../src/index.js')
    const broker = createBroker()
    const {port} = await broker.listen({host: '127.0.0.1', port: 0})
    return {host: '127.0.0.1', port, stop: () => broker.close()}
  }},
]

/**
 * Answers every request under svc/: "reply:" + the payload, to its Response Topic with its Correlation
 * Data (a v3 request, which has no properties, is answered on svc-v3/reply). `decoy` first sends an
 * answer with other Correlation Data, as another requester's answer would look.
 */
async function responder(t: Target) {
  const client = await connect({host: t.host, port: t.port})
  const requests: Message[] = []
  let decoy = false
  client.onMessage((m) => {
    requests.push(m)
    const responseTopic = m.properties?.responseTopic ?? 'svc-v3/reply'
    const correlationData = m.properties?.correlationData
    if (decoy) void client.publish(responseTopic, 'not yours', {qos: 1, properties: {correlationData: Buffer.from('someone else')}})
    void client.publish(responseTopic, `reply:${m.payload.toString()}`, {qos: 1, properties: {correlationData, contentType: 'text/plain'}})
  })
  await client.subscribe([{topic: 'svc/#', qos: 1}])
  return {requests, setDecoy: (on: boolean) => { decoy = on }, close: () => client.disconnect()}
}

function mosquittoRr(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile('mosquitto_rr', args, {timeout: 30_000}, (error, stdout, stderr) => {
      resolve({code: error ? Number((error as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr})
    })
  })
}

for (const b of BROKERS) {
  describe(`rr on ${b.name}`, {skip: b.name === 'mosquitto' && !hasMosquitto()}, () => {
    let t: Target
    let r: Awaited<ReturnType<typeof responder>>
    before(async () => {
      t = await b.start()
      r = await responder(t)
    })
    after(async () => {
      await r.close()
      await t.stop()
    })
    const conn = () => ['-h', t.host, '-p', String(t.port)]

    it('publishes the request with a Response Topic and Correlation Data, prints the answer, exits 0', async () => {
      const seen = r.requests.length
      const res = await runMidge(['rr', ...conn(), '-t', 'svc/echo', '-e', 'answers/1', '-m', 'hello', '-q', '1', '-W', '20'])
      assert.equal(res.code, 0, res.stderr)
      assert.equal(res.stdout, 'reply:hello\n')
      assert.equal(res.stderr, '')
      const request = r.requests[seen]
      assert.equal(request.topic, 'svc/echo')
      assert.equal(request.payload.toString(), 'hello')
      assert.equal(request.qos, 1)
      assert.equal(request.properties?.responseTopic, 'answers/1')
      assert.equal(request.properties?.correlationData?.length, 8)
    })

    it('-v, --json and -F print the answer as sub does; -F output is mosquitto_rr\'s, byte for byte', {skip: !hasMosquitto()}, async () => {
      const verbose = await runMidge(['rr', ...conn(), '-t', 'svc/v', '-e', 'answers/v', '-m', 'x', '-v', '-W', '20'])
      assert.equal(verbose.stdout, 'answers/v reply:x\n')
      const json = await runMidge(['rr', ...conn(), '-t', 'svc/j', '-e', 'answers/j', '-m', 'x', '--json', '-W', '20'])
      assert.equal(json.code, 0, json.stderr)
      const line = JSON.parse(json.stdout)
      assert.equal(line.topic, 'answers/j')
      assert.equal(line.payload, 'reply:x')
      assert.equal(line.properties.contentType, 'text/plain')
      const format = '%t|%p|%q|%l|%C'
      const ours = await runMidge(['rr', ...conn(), '-t', 'svc/f', '-e', 'answers/f', '-m', 'payload', '-F', format, '-W', '20'])
      const theirs = await mosquittoRr([...conn(), '-t', 'svc/f', '-e', 'answers/f', '-m', 'payload', '-F', format, '-W', '20'])
      assert.equal(theirs.code, 0, theirs.stderr)
      assert.equal(ours.code, 0, ours.stderr)
      assert.equal(ours.stdout, theirs.stdout)
      assert.equal(ours.stdout, 'answers/f|reply:payload|0|13|text/plain\n')
    })

    it('-W: exit 27 with one line when nothing answers, as mosquitto_rr', async () => {
      const ours = await runMidge(['rr', ...conn(), '-t', 'nobody/home', '-e', 'answers/none', '-m', 'x', '-W', '1'])
      assert.equal(ours.code, 27)
      assert.equal(ours.stdout, '')
      assert.equal(ours.stderr, 'midge rr: timed out: no response within 1s\n')
      if (hasMosquitto()) assert.equal((await mosquittoRr([...conn(), '-t', 'nobody/home', '-e', 'answers/none', '-m', 'x', '-W', '1'])).code, 27)
    })

    it('an answer with other Correlation Data is skipped; -D publish correlation-data is sent as given', async () => {
      r.setDecoy(true)
      try {
        const seen = r.requests.length
        const res = await runMidge(['rr', ...conn(), '-t', 'svc/d', '-e', 'answers/d', '-m', 'q', '-D', 'publish', 'correlation-data', 'mine-42', '-W', '20'])
        assert.equal(res.code, 0, res.stderr)
        assert.equal(res.stdout, 'reply:q\n')
        assert.equal(r.requests[seen].properties?.correlationData?.toString(), 'mine-42')
      } finally {
        r.setDecoy(false)
      }
    })

    it('-V 311 sends the request without properties (the responder knows where to answer)', async () => {
      const seen = r.requests.length
      const res = await runMidge(['rr', ...conn(), '-V', '311', '-t', 'svc/old', '-e', 'svc-v3/reply', '-f', '/dev/null', '-W', '20'])
      assert.equal(res.code, 0, res.stderr)
      assert.equal(res.stdout, 'reply:\n')
      assert.equal(r.requests[seen].properties?.responseTopic, undefined)
    })

    it('mosquitto_rr gets its answer from the same responder (the responder is not midge-only)', {skip: !hasMosquitto()}, async () => {
      const theirs = await mosquittoRr([...conn(), '-t', 'svc/m', '-e', 'answers/m', '-m', 'from-mosquitto', '-W', '20'])
      assert.equal(theirs.code, 0, theirs.stderr)
      assert.equal(theirs.stdout, 'reply:from-mosquitto\n')
    })
  })
}

describe('rr refused by the broker', () => {
  let broker: import('../../src/index.js').Broker
  let port: number
  before(async () => {
    const {createBroker} = await import('../../src/index.js')
    broker = createBroker({auth: {
      authorizeSubscribe: (_c, filter) => !filter.startsWith('closed/'),
      authorizePublish: (_c, topic) => !topic.startsWith('closed/'),
    }})
    port = (await broker.listen({host: '127.0.0.1', port: 0})).port
  })
  after(async () => { await broker.close() })
  const conn = () => ['-h', '127.0.0.1', '-p', String(port)]

  it('exit 14 when the subscription to the response topic is refused', async () => {
    const res = await runMidge(['rr', ...conn(), '-t', 'open/req', '-e', 'closed/replies', '-m', 'x', '-W', '20'])
    assert.equal(res.code, 14, res.stderr)
    assert.match(res.stderr, /^midge rr: subscription to 'closed\/replies' refused: .+\n$/)
  })

  it('exit 13 when the request (QoS 1) is refused', async () => {
    const res = await runMidge(['rr', ...conn(), '-t', 'closed/req', '-e', 'replies/me', '-m', 'x', '-q', '1', '-W', '20'])
    assert.equal(res.code, 13, res.stderr)
    assert.match(res.stderr, /^midge rr: request to 'closed\/req' refused: .+\n$/)
  })
})

describe('rr usage', () => {
  for (const [what, args, message] of [
    ['no response topic', ['-t', 'a', '-m', 'x'], /a response topic is needed: -e TOPIC/],
    ['a wildcard response topic', ['-t', 'a', '-e', 'r/#', '-m', 'x'], /invalid response topic 'r\/#'/],
    ['no request', ['-t', 'a', '-e', 'r'], /nothing to publish/],
    ['-m with -n', ['-t', 'a', '-e', 'r', '-m', 'x', '-n'], /--(message|null-message)/],
    ['-W 0', ['-t', 'a', '-e', 'r', '-m', 'x', '-W', '0'], /not a positive number of seconds/],
  ] as const) {
    it(`exit 2 with one line: ${what}`, async () => {
      const res = await runMidge(['rr', '-p', '1', ...args])
      assert.equal(res.code, 2, res.stderr)
      assert.match(res.stderr, message)
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr)
    })
  }

  it('exit 11 when the broker cannot be reached', async () => {
    const {freePort} = await import('../helpers/mosquitto.js')
    const res = await runMidge(['rr', '-h', '127.0.0.1', '-p', String(await freePort()), '-t', 'a', '-e', 'r', '-m', 'x'])
    assert.equal(res.code, 11)
    assert.match(res.stderr, /^midge rr: cannot connect to 127\.0\.0\.1:\d+: connection refused\n$/)
  })
})

