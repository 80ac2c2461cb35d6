// Aedes (the devDependency) on a TCP port, for `npm run bench:compare`: like ../shared/perf's
// aedes-server.mjs, with aedes' defaults. Prints one JSON line {"port", "pid", "version"} once listening.
// Usage: node scripts/bench-aedes-server.mjs [port]   (0 or nothing: a free port)
import net from 'node:net'
import {readFileSync} from 'node:fs'
import {Aedes} from 'aedes'

const port = Number(process.argv[2] ?? 0)
const aedes = await Aedes.createBroker()
const server = net.createServer(aedes.handle)
const {version} = JSON.parse(readFileSync(new URL('../node_modules/aedes/package.json', import.meta.url), 'utf8'))
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({port: server.address().port, pid: process.pid, version}) + '\n')
})
const stop = () => server.close(() => aedes.close(() => process.exit(0)))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
