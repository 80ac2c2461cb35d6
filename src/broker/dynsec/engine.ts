// Dynamic Security in the engine: the state, password checks, ACL verdicts, and the $CONTROL handler
// that runs commands one request at a time, saves the file, answers, then disconnects the clients a
// change concerns (as the plugin's mosquitto_kick_client_by_username does).
import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {ReasonCode} from '../../codec/index.js'
import {verifyPbkdf2} from '../../passwd/pbkdf2.js'
import type {ClientInfo} from '../auth/hooks.js'
import {engineOf, type Broker} from '../broker.js'
import type {BrokerEngine} from '../engine.js'
import {Connection, ConnState} from '../connection.js'
import {silentLogger, type Logger} from '../logger.js'
import {checkAccess, type Verdict, type Who} from './acl.js'
import {HASH_BYTES, SALT_BYTES, serializeDynsec} from './config-file.js'
import {handleControl} from './control.js'
import type {Access, DynsecState, StoredPassword} from './types.js'

export const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1'
export const RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response'
/** Mosquitto 2.0's PW_DEFAULT_ITERATIONS. */
export const DEFAULT_ITERATIONS = 101

export interface DynsecOptions {
  state: DynsecState
  /** Writes the file's new text (atomically); called after each request that changed something. */
  save?: (text: string) => Promise<void>
  logger?: Logger
}

export class Dynsec {
  readonly state: DynsecState
  private readonly save: DynsecOptions['save']
  private readonly log: Logger
  private queue: Promise<void> = Promise.resolve()

  constructor(options: DynsecOptions) {
    this.state = options.state
    this.save = options.save
    this.log = options.logger ?? silentLogger
  }

  /** Answers requests published on $CONTROL/dynamic-security/v1 by clients the ACLs allow. */
  attach(broker: Broker): void {
    const engine = engineOf(broker)
    engine.control.set(CONTROL_TOPIC, (client, payload) => {
      this.queue = this.queue.then(() => this.request(engine, client, payload))
    })
  }

  /** Settles once every request received so far is answered and saved. */
  idle(): Promise<void> {
    return this.queue
  }

  private async request(broker: BrokerEngine, admin: ClientInfo, payload: Buffer): Promise<void> {
    let outcome
    try {
      outcome = handleControl({
        state: this.state,
        hashPassword: newPassword,
        log: (line) => this.log.info({clientId: admin.clientId, username: admin.username}, `dynsec: ${admin.clientId}/${admin.username ?? ''} | ${line}`),
      }, payload)
    } catch (error) {
      // a bug, not bad input: log it and answer nothing rather than take the broker down
      this.log.error({err: error}, 'dynsec: request failed')
      return
    }
    if (outcome.changed && this.save) {
      try {
        await this.save(serializeDynsec(this.state))
      } catch (error) {
        this.log.error({}, `dynsec: cannot save the configuration: ${(error as Error).message}`)
      }
    }
    broker.publish({topic: RESPONSE_TOPIC, payload: Buffer.from(outcome.response), qos: 0, retain: false})
    for (const username of outcome.kicks) kick(broker, username)
  }

  /** The plugin's basic auth: 'defer' when the user is not ours, or has no password. */
  async authenticate(who: Who, password: Buffer | undefined): Promise<Verdict> {
    if (who.username === undefined || password === undefined) return 'defer'
    const client = this.state.clients.get(who.username)
    if (client === undefined) return 'defer'
    if (client.disabled) return 'deny'
    if (client.clientid !== undefined && client.clientid !== who.clientId) return 'deny'
    const stored = client.password
    if (stored === undefined) return 'defer'
    const nul = password.indexOf(0) // Mosquitto hashes the password as a C string
    const ok = await verifyPbkdf2({kind: 'pbkdf2-sha512', text: '', ...stored}, nul === -1 ? password : password.subarray(0, nul))
    return ok ? 'allow' : 'deny'
  }

  check(access: Access, who: Who, topic: string): Verdict {
    return checkAccess(this.state, access, who, topic)
  }
}

/** A new password record as the plugin makes one: 12 random bytes of salt, 101 iterations. */
export function newPassword(password: string): StoredPassword {
  const salt = randomBytes(SALT_BYTES)
  return {salt, iterations: DEFAULT_ITERATIONS, hash: pbkdf2Sync(password, salt, DEFAULT_ITERATIONS, HASH_BYTES, 'sha512')}
}

/** Disconnects the connected clients logged in as `username` (null: without one), without their wills. */
function kick(broker: BrokerEngine, username: string | null): void {
  for (const session of broker.sessions.values()) {
    const link = session.link
    if (!(link instanceof Connection) || link.state !== ConnState.Connected) continue
    if ((session.client.username ?? null) !== username) continue
    link.disconnect(ReasonCode.AdministrativeAction, 'dynamic security configuration changed', false)
  }
}
