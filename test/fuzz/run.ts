// npm run fuzz -- --packets N --seed S [--persistence] [--auth] [--connections C] [--mutation-rate P]
//                 [--findings DIR] [--no-minimize] [--json]
// Exit 0 when every batch passed its checks, 1 when something failed (findings saved), 2 on bad usage.
import {parseArgs} from 'node:util'
import {FINDINGS_DIR} from './findings.js'
import {fuzz, mb} from './fuzzer.js'

const USAGE = 'usage: npm run fuzz -- [--packets N] [--seed S] [--persistence] [--auth] [--connections C] [--mutation-rate P] [--restart-every B] [--findings DIR] [--no-minimize] [--json]'

function main(): Promise<number> | number {
  let values
  try {
    ({values} = parseArgs({options: {
      packets: {type: 'string', default: '100000'},
      seed: {type: 'string'},
      persistence: {type: 'boolean', default: false},
      auth: {type: 'boolean', default: false},
      connections: {type: 'string', default: '100'},
      'mutation-rate': {type: 'string', default: '0.3'},
      'restart-every': {type: 'string'},
      findings: {type: 'string', default: FINDINGS_DIR},
      'no-minimize': {type: 'boolean', default: false},
      json: {type: 'boolean', default: false},
      help: {type: 'boolean', default: false},
    }}))
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help) { console.log(USAGE); return 0 }
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v)
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got "${v}"`)
    return n
  }
  let seed: number, packets: number, connections: number, mutationRate: number, restartEvery: number
  try {
    seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : num('seed', values.seed, 0, 2 ** 32 - 1)
    packets = num('packets', values.packets, 1, 1e12)
    connections = num('connections', values.connections, 1, 2000)
    mutationRate = num('mutation-rate', values['mutation-rate'], 0, 1)
    // with --persistence, a restart every 25 batches by default: what was stored must come back whole
    restartEvery = num('restart-every', values['restart-every'] ?? (values.persistence ? '25' : '0'), 0, 1e9)
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`)
    return 2
  }
  const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`)
  log(`seed ${seed} (replay with --seed ${seed})`)
  return fuzz({seed, packets, connections, mutationRate, restartEvery, persistence: values.persistence, auth: values.auth,
    findingsDir: values.findings, minimize: !values['no-minimize'], savePerKind: 3, log}).then((s) => {
    if (values.json) console.log(JSON.stringify(s))
    else {
      console.log(`seed ${s.seed}${s.setup.persistence ? ' --persistence' : ''}${s.setup.auth ? ' --auth' : ''}: ${s.packets} packets over ${s.connections} connections in ${s.batches} batches, ${s.seconds.toFixed(0)} s`)
      console.log(`connections accepted ${s.accepted}, messages to the subscribers ${s.subscriberMessages}, retained messages to fresh subscribers ${s.retainedSeen}`)
      console.log(`crashes ${s.crashes}, failures ${JSON.stringify(s.failures)}, restarts after a crash ${s.restarts}, planned restarts ${s.plannedRestarts}, lingering connections ${s.lingering}`)
      console.log(`RSS ${mb(s.before.rss)} -> ${mb(s.after.rss)} (max ${mb(s.maxRss)}), fds ${s.before.fds} -> ${s.after.fds}`)
      for (const f of s.saved) console.log(`finding: ${f}`)
    }
    return Object.keys(s.failures).length === 0 ? 0 : 1
  })
}

// interrupted: exit, which kills the broker and the subscribers started (broker-process.ts)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
process.exitCode = await main()
