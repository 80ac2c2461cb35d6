import {randomBytes} from 'node:crypto'
import {chown, open, realpath, rename, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

export interface AtomicWriteOptions {
  /** Mode for a new file (default 0600). An existing file keeps its own mode, owner and group. */
  readonly mode?: number
}

/**
 * Replaces `path` with `data` so that readers see the old file or the new one, never a mix: write a
 * temp file in the same folder, fsync it, rename it over the target, fsync the folder. A symlink is
 * followed, so its target is replaced. On failure the temp file is removed and the old file is untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const target = await realpath(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return path
    throw error
  })
  const existing = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  const mode = existing ? existing.mode & 0o7777 : (options.mode ?? 0o600)
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temp, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
    if (error.path === temp) error.path = target // the temp name is ours; the folder is the user's
    throw error
  })
  try {
    try {
      await handle.chmod(mode) // open() applies the umask; the mode must be exact
      if (existing) await chownQuietly(temp, existing.uid, existing.gid)
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, target)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
  await syncDirectory(dirname(target))
}

/** Keeps a file's owner and group when we may (root, or a group we belong to); otherwise leaves ours. */
async function chownQuietly(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid).catch(() => chown(path, -1, gid)).catch(() => {})
}

/** Makes the rename durable. Some platforms cannot fsync a directory; that is not an error. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined)
  if (!handle) return
  try { await handle.sync() } catch { /* EISDIR/EINVAL on some systems */ } finally { await handle.close() }
}
