// `broker start --dynsec FILE`: loads Mosquitto's dynamic-security.json (a file that cannot be read or
// parsed stops the start, exit 17), saves it atomically after every change, and puts its hooks in
// front of the password and ACL files.
import {readFile} from 'node:fs/promises'
import type {Logger} from 'pino'
import {Dynsec, DynsecFileError, dynsecHooks, parseDynsecFile, type AuthDenial, type AuthHooks, type FileAuth} from '../../index.js'
import {writeFileAtomic} from '../../fs/atomic-write.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

export async function loadDynsec(path: string, log: Logger): Promise<Dynsec> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    const why = {ENOENT: 'no such file (create one with `midge ctrl dynsec init FILE ADMIN`)', EACCES: 'permission denied', EISDIR: 'it is a directory'}[error.code ?? ''] ?? error.message
    throw new CliError(`cannot read dynamic security file ${path}: ${why}`, ExitCode.BrokerStartFailed)
  })
  let parsed
  try {
    parsed = parseDynsecFile(text)
  } catch (error) {
    if (error instanceof DynsecFileError) throw new CliError(`invalid dynamic security file ${path}: ${error.message}`, ExitCode.BrokerStartFailed)
    throw error
  }
  for (const w of parsed.warnings) log.warn({file: path}, `dynamic security: ${w}`)
  const {state} = parsed
  log.info({file: path, clients: state.clients.size, groups: state.groups.size, roles: state.roles.size},
    `dynamic security: ${path} (${state.clients.size} clients, ${state.groups.size} groups, ${state.roles.size} roles)`)
  return new Dynsec({state, logger: log, save: (data) => writeFileAtomic(path, data, {mode: 0o600})})
}

/**
 * Dynamic Security first, then the password and ACL files (if any), as Mosquitto orders them. Denials
 * go to `onDenied` (broker start's throttled log: a client cannot flood it).
 */
export function withDynsec(dynsec: Dynsec, files: FileAuth | undefined, allowAnonymous: boolean, onDenied: (d: AuthDenial) => void): AuthHooks {
  return dynsecHooks(dynsec, {files, allowAnonymous, onDenied})
}
