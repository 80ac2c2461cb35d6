// The engine's internal entry point: what in-tree code (the CLI, metrics-http, Dynamic Security, file
// auth, the cluster, tests) may use of src/broker beyond the library's API in src/index.ts. Not
// exported by src/index.ts nor by package.json's "exports": an embedder cannot import it.
export {engineOf} from './broker.js'
export type {BrokerEngine} from './engine.js'
