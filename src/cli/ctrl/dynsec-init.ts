// `midge ctrl dynsec init FILE ADMIN`: a new dynamic-security.json with one admin client, the same
// configuration `mosquitto_ctrl dynsec init` writes: the admin role may use $CONTROL/dynamic-security/#,
// read and subscribe to everything; other clients may not publish or subscribe by default.
import {access} from 'node:fs/promises'
import {emptyAcls, emptyState, newPassword, type AclType} from '../../broker/internal.js'
import {serializeDynsec} from '../../index.js'
import {writeFileAtomic} from '../../fs/atomic-write.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

const ADMIN_ACLS: Array<[AclType, string]> = [
  ['publishClientSend', '$CONTROL/dynamic-security/#'], ['publishClientReceive', '$CONTROL/dynamic-security/#'],
  ['subscribePattern', '$CONTROL/dynamic-security/#'], ['publishClientReceive', '$SYS/#'], ['subscribePattern', '$SYS/#'],
  ['publishClientReceive', '#'], ['subscribePattern', '#'], ['unsubscribePattern', '#'],
]

/** The file's text. */
export function initialConfiguration(admin: string, password: string): string {
  const state = emptyState()
  state.defaultAccess = {publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true}
  const acls = emptyAcls()
  for (const [type, topic] of ADMIN_ACLS) acls[type].push({topic, priority: 0, allow: true})
  state.roles.set('admin', {rolename: 'admin', acls})
  state.clients.set(admin, {username: admin, textname: 'Dynsec admin user', disabled: false, password: newPassword(password), roles: [{name: 'admin', priority: -1}], groups: []})
  return serializeDynsec(state)
}

/** Writes the file (mode 0600); refuses to replace an existing one, as mosquitto_ctrl does. */
export async function initFile(path: string, admin: string, password: string): Promise<string> {
  if (password === '') throw new CliError('the admin password must not be empty', ExitCode.Usage)
  const exists = await access(path).then(() => true, () => false)
  if (exists) throw new CliError(`'${path}' already exists: remove the file or use a different location`, ExitCode.Failure)
  await writeFileAtomic(path, initialConfiguration(admin, password), {mode: 0o600}).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot write '${path}': ${error.code ?? error.message}`, ExitCode.InputFile)
  })
  return [
    `The client '${admin}' has been created in the file '${path}'.`,
    'This client is configured to allow you to administer the dynamic security plugin only.',
    'It does not have access to publish messages to normal topics.',
    'You should create your application clients to do that, for example:',
    '   midge ctrl <connect options> dynsec createClient <username>',
    '   midge ctrl <connect options> dynsec createRole <rolename>',
    '   midge ctrl <connect options> dynsec addRoleACL <rolename> publishClientSend my/topic allow [priority]',
    '   midge ctrl <connect options> dynsec addClientRole <username> <rolename> [priority]',
  ].join('\n')
}
