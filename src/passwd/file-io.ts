import {readFile} from 'node:fs/promises'
import {writeFileAtomic} from '../fs/atomic-write.js'
import {PasswordFile, type ParseOptions} from './password-file.js'

/**
 * Reads and parses a password file. File-system errors (ENOENT, EACCES, EISDIR) are thrown as they
 * are; content problems as PasswordFileError naming `path:line`.
 */
export async function loadPasswordFile(path: string, options: Omit<ParseOptions, 'source'> = {}): Promise<PasswordFile> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    error.path ??= path // EISDIR from read() carries no path
    throw error
  })
  return PasswordFile.parse(text, {...options, source: path})
}

/** Writes atomically: a new file gets mode 0600, an existing one keeps its mode, owner and group. */
export async function savePasswordFile(path: string, file: PasswordFile): Promise<void> {
  await writeFileAtomic(path, file.serialize(), {mode: 0o600})
}
