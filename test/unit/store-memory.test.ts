import {MemoryBacking, MemoryStore} from '../../src/broker/store/index.js'
import {runStoreContract} from './store-contract.js'

runStoreContract('memory', () => {
  const backing = new MemoryBacking()
  return {
    open: () => MemoryStore.open(backing),
    counts: () => ({
      sessions: backing.sessions.size,
      subscriptions: [...backing.subscriptions.values()].reduce((n, m) => n + m.size, 0),
      messages: backing.messages.size,
      outbound: backing.outbound.size,
      inbound: [...backing.inbound.values()].reduce((n, s) => n + s.size, 0),
      retained: backing.retained.size,
    }),
    setNewerSchema: () => { backing.schemaVersion++ },
    cleanup: () => undefined,
  }
})
