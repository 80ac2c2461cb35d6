// The engine's internal entry point: what code outside src/broker (the CLI, the cluster, tests) may use
// of the engine beyond the library's API in src/index.ts. Neither src/index.ts nor package.json's
// "exports" lead here, so an embedder cannot import it; `npm run lint` (scripts/import-layers.mjs)
// fails when src/cli or src/commands import src/broker/** by any other way.
export {engineOf} from './broker.js'
export type {BrokerEngine} from './engine.js'
export {disconnectClients} from './auth/file-auth.js'
export {newPassword} from './dynsec/index.js'
export {emptyAcls, emptyState, type AclType} from './dynsec/types.js'
export {checkTlsOptions} from './listeners/tls.js'
export {remoteHost} from './remote-host.js'
export {LogThrottle} from './log-throttle.js'
export {realTimers} from './timers.js'
