import type {ControlHandler} from './auth/hooks.js'
import type {Bridges} from './bridge/index.js'
import type {BridgeHost} from './bridge/bridge.js'
import type {ClusterLink} from './cluster-link.js'
import type {TypedEmitter, BrokerEvents} from './events.js'
import type {Listener} from './listeners/index.js'
import type {Message} from './message.js'
import type {Metrics} from './metrics.js'
import type {BrokerOptions} from './options.js'
import type {Persistence, PersistenceHost} from './persistence.js'
import type {RetainedMessages} from './retained.js'
import type {RouteResult, Router} from './router.js'
import type {Session} from './session.js'
import type {SessionDirectoryHost} from './session-directory.js'
import type {SysSource, SysTopics} from './sys.js'

/**
 * The engine behind a `Broker`: its parts and the ports its parts are given (sessions, persistence,
 * $SYS, bridges, a session directory). What in-tree code reaches (metrics-http, Dynamic Security, file
 * auth, the cluster, the CLI, tests) through `engineOf(broker)` (`broker/internal.ts`), and not the
 * library's API: `src/index.ts` exports neither this type nor `engineOf`.
 */
export interface BrokerEngine extends PersistenceHost, SysSource, BridgeHost, SessionDirectoryHost {
  readonly options: BrokerOptions
  readonly events: TypedEmitter<BrokerEvents>
  readonly metrics: Metrics
  readonly router: Router
  readonly retained: RetainedMessages
  readonly sessions: Map<string, Session>
  /** Handlers of `$CONTROL/...` topics (Dynamic Security's API): those PUBLISHes go to them, never to subscribers. */
  readonly control: Map<string, ControlHandler>
  /** Set when a store is given: keeps it in step with sessions and retained messages. */
  readonly persistence: Persistence | undefined
  /** The open listeners, in the order they were opened. */
  readonly listeners: readonly Listener[]
  /** The $SYS/broker/... topics (options.sysInterval > 0), published from the first listen() on. */
  readonly sys: SysTopics | undefined
  /** Connections to other brokers (Mosquitto's bridges). */
  readonly bridges: Bridges
  /** Clients connected now. */
  readonly connectionCount: number
  /**
   * Publishes a message to every matching subscriber (and stores it if retained); returns the receiver
   * count. `result`, if given, also learns how many receivers refused it for their quota (full queues).
   */
  publish(message: Message, result?: RouteResult): number
  /** Makes this broker a node of a cluster (src/cluster), or a single node again (undefined). */
  joinCluster(link: ClusterLink | undefined): void
  /** An exception from the engine's own code: counted and logged with the client and packet. */
  internalError(error: unknown, context: {clientId?: string; packet?: string; during: string}): void
}
