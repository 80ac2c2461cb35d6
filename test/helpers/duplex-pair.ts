// The engine's in-memory duplex pair (a bridge's local side uses it too), for tests that need a socket
// without a socket.
export {duplexPair, Side} from '../../src/broker/duplex-pair.js'
