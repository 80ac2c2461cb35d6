// Aedes (the devDependency) on a TCP port, for `npm run bench:compare`: like ../shared/perf's
// aedes-server.mjs, with aedes' defaults. Prints one JSON line {"port", "pid", "version"} once listening.
// With `--redis URL`: Aedes' own way to cluster, for `npm run bench:cluster`: mqemitter-redis (every
// publish through Redis pub/sub) and aedes-persistence-redis (sessions and retained messages in Redis).
// Usage: node scripts/bench-aedes-server.mjs [port] [--redis redis://HOST:PORT]   (port 0 or nothing: a free port)
import net from 'node:net'
import {readFileSync} from 'node:fs'
import {Aedes} from 'aedes'

const args = process.argv.slice(2)
const at = args.indexOf('--redis')
const redisUrl = at >= 0 ? args.splice(at, 2)[1] : undefined
const port = Number(args[0] ?? 0)
const aedes = await Aedes.createBroker(redisUrl === undefined ? {} : await redisCluster(redisUrl))
const server = net.createServer(aedes.handle)
const {version} = JSON.parse(readFileSync(new URL('../node_modules/aedes/package.json', import.meta.url), 'utf8'))
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({port: server.address().port, pid: process.pid, version}) + '\n')
})
const stop = () => server.close(() => aedes.close(() => process.exit(0)))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

async function redisCluster(url) {
  const {default: mqemitterRedis} = await import('mqemitter-redis')
  const {default: persistenceRedis} = await import('aedes-persistence-redis')
  const {hostname: host, port} = new URL(url)
  return {mq: mqemitterRedis({host, port: Number(port)}), persistence: persistenceRedis({host, port: Number(port)})}
}
