// One cluster node in a process of its own (session-nodes.ts startChildNode), killed by the test:
// args REDIS_URL PREFIX NODE_ID; prints {"port": N} once it listens.
import {createBroker} from '../../src/broker/broker.js'
import {RedisStore} from '../../src/cluster/redis-store.js'
import {RedisSessionDirectory} from '../../src/cluster/session-directory.js'

const [redisUrl, prefix, nodeId] = process.argv.slice(2) as [string, string, string]
const store = await RedisStore.open({redis: redisUrl, prefix, nodeId, loadAll: false})
const directory = await RedisSessionDirectory.start({store, isNodeAlive: async () => true})
const broker = createBroker({store, sessions: directory})
await broker.restore()
const address = await broker.listen({port: 0})
process.stdout.write(`${JSON.stringify({port: address.port})}\n`)
