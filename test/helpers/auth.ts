// Password files and ACLs for the auth tests: cheap hashes (the format, not the cost, is under test).
import {parseAclFile} from '../../src/broker/auth/acl-file.js'
import {createFileAuth, type FileAuthOptions} from '../../src/broker/auth/file-auth.js'
import {PasswordFile} from '../../src/passwd/index.js'

/** alice/secret (argon2id), bob/hunter2 (Mosquitto's $7$), carol/binary password (argon2id). */
export async function testPasswords(): Promise<PasswordFile> {
  const file = PasswordFile.empty()
  await file.setPassword('alice', 'secret', {memory: 64, iterations: 1})
  await file.setPassword('bob', 'hunter2', {algorithm: 'pbkdf2', iterations: 1000})
  await file.setPassword('carol', 'pässwörd', {memory: 64, iterations: 1})
  return file
}

export function acl(text: string) {
  return parseAclFile(text)
}

export {createFileAuth, type FileAuthOptions}
