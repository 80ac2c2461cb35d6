import type {JsonObject} from './json.js'
import type {DynsecState} from './types.js'

/** What a command handler may do: answer, mark the configuration changed, disconnect clients. */
export interface CommandContext {
  readonly state: DynsecState
  /** Answers the command: an error string, or success with optional data. */
  reply(error?: string, data?: JsonObject): void
  /** The configuration changed: the file is rewritten after the request. */
  changed(): void
  /** Disconnects the clients logged in as `username` (null: the anonymous ones) after the request. */
  kick(username: string | null): void
  /** Disconnects everyone in the group (and the anonymous clients if it is the anonymous group). */
  kickGroup(groupname: string): void
  /** An audit line, as the plugin logs: who did what. */
  log(line: string): void
  /** A new password record (PBKDF2-SHA512, Mosquitto's default of 101 iterations and 12-byte salt). */
  hashPassword(password: string): {hash: Buffer; salt: Buffer; iterations: number}
}

export type CommandHandler = (ctx: CommandContext, command: JsonObject) => void
