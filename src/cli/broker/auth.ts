// `broker start --password-file --acl-file`: loads the files into the engine's file-auth hooks, fails
// closed at start-up, and re-reads both on SIGHUP (a bad file is logged; the previous pair stays).
import {readFile} from 'node:fs/promises'
import type {Logger} from 'pino'
import {disconnectClients} from '../../broker/internal.js'
import {AclFileError, createFileAuth, parseAclFile, type Acl, type AuthDenial, type Broker, type ClientInfo, type FileAuth} from '../../index.js'
import {loadPasswordFile, type PasswordFile, PasswordFileError} from '../../passwd/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

export interface AuthFlagValues {
  'password-file'?: string
  'acl-file'?: string
  'allow-anonymous': boolean
  /** The files are one listener's (per_listener_settings): a reload disconnects only that listener's clients. */
  listener?: string
}

/** A password file and an ACL, read and parsed. */
interface AuthFiles {
  passwords?: PasswordFile
  acl?: Acl
}

export interface BrokerAuth {
  hooks: FileAuth
  /**
   * Re-reads both files and puts them in force only if both are good, then disconnects the broker's
   * clients whose user was removed or had its password changed. Never throws.
   */
  reload(broker: Broker): Promise<boolean>
}

/**
 * The hooks for the flags, or undefined when neither file is given. A file that cannot be read or
 * parsed refuses the start: CliError (exit 17) naming the file and line.
 */
export async function brokerAuthFromFlags(flags: AuthFlagValues, log: Logger, onDenied: (d: AuthDenial) => void = (d) => logDenial(log, d)): Promise<BrokerAuth | undefined> {
  const paths = {passwordFile: flags['password-file'], aclFile: flags['acl-file']}
  if (paths.passwordFile === undefined && paths.aclFile === undefined) return undefined
  const files = await loadAuthFiles(paths).catch((error: unknown) => {
    throw new CliError(describeLoadError(error), ExitCode.BrokerStartFailed)
  })
  const hooks = createFileAuth({...files, allowAnonymous: flags['allow-anonymous'], onDenied})
  logLoaded(log, paths, files, 'authentication')
  return {
    hooks,
    async reload(broker: Broker) {
      try {
        const next = await loadAuthFiles(paths)
        const changed = hooks.update(next)
        const {listener} = flags
        const lockedOut = listener === undefined ? changed : (c: ClientInfo) => c.listener === listener && changed(c)
        logLoaded(log, paths, next, 'reloaded')
        const count = disconnectClients(broker, lockedOut, 'user removed or password changed')
        if (count > 0) log.info({clients: count}, `disconnected ${count} client${count === 1 ? '' : 's'} whose user was removed or whose password changed`)
        return true
      } catch (error) {
        log.error({passwordFile: paths.passwordFile, aclFile: paths.aclFile},
          `reload failed, keeping the previous password file and ACL: ${describeLoadError(error)}`)
        return false
      }
    },
  }
}

/** Calls `reload` on every SIGHUP (as Mosquitto does) until the returned function is called. */
export function reloadOnHangup(reload: () => Promise<unknown>, log: Logger): () => void {
  let running: Promise<unknown> | undefined
  let again = false
  const onHangup = () => {
    log.info({signal: 'SIGHUP'}, 'reloading')
    if (running !== undefined) { again = true; return } // one reload at a time; the last signal wins
    const loop = async () => {
      do { again = false; await reload() } while (again)
      running = undefined
    }
    running = loop()
  }
  process.on('SIGHUP', onHangup)
  return () => process.off('SIGHUP', onHangup)
}

async function loadAuthFiles({passwordFile, aclFile}: {passwordFile?: string; aclFile?: string}): Promise<AuthFiles> {
  const [passwords, acl] = await Promise.all([
    passwordFile === undefined ? undefined : loadPasswordFile(passwordFile).catch(fsError('password file', passwordFile)),
    aclFile === undefined ? undefined : readFile(aclFile, 'utf8').catch(fsError('ACL file', aclFile)).then((text) => parseAclFile(text, {source: aclFile})),
  ])
  return {passwords, acl}
}

class UnreadableFile extends Error {}

function fsError(what: string, path: string) {
  return (error: NodeJS.ErrnoException): never => {
    if (error instanceof PasswordFileError) throw error
    const why = {ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory'}[error.code ?? ''] ?? error.message
    throw new UnreadableFile(`cannot read ${what} ${path}: ${why}`)
  }
}

/** One line: the file, the line, the problem. */
function describeLoadError(error: unknown): string {
  if (error instanceof UnreadableFile) return error.message
  // both messages already start with PATH:LINE
  if (error instanceof PasswordFileError) return `invalid password file ${error.message}`
  if (error instanceof AclFileError) return `invalid ACL file ${error.message}`
  return (error as Error)?.message ?? String(error)
}

function logLoaded(log: Logger, paths: {passwordFile?: string; aclFile?: string}, files: AuthFiles, what: string): void {
  const users = files.passwords?.size
  log.info({passwordFile: paths.passwordFile, users, aclFile: paths.aclFile},
    `${what}: ${[paths.passwordFile && `password file ${paths.passwordFile} (${users} user${users === 1 ? '' : 's'})`, paths.aclFile && `ACL file ${paths.aclFile}`].filter(Boolean).join(', ')}`)
  if (users === 0) log.warn({passwordFile: paths.passwordFile}, 'the password file has no users: no client can log in with a user name')
}

function logDenial(log: Logger, d: AuthDenial): void {
  const fields = {clientId: d.clientId, username: d.username, address: d.remoteAddress, topic: d.topic, reason: d.reason}
  if (d.action === 'connect') log.warn(fields, 'connection refused')
  else log.debug(fields, `${d.action} denied`)
}
