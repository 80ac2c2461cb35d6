// Where bench writes its results (--out, --report): checked before a run, so that a typo in a path
// costs nothing, and written atomically after it.
import {constants} from 'node:fs'
import {access, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {writeFileAtomic} from '../../fs/atomic-write.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

/** Throws the one-line error (exit 2) that the write after the run would throw, before anything runs. */
export async function checkOutputFile(flag: string, path: string | undefined): Promise<void> {
  if (path === undefined) return
  const problem = await whyNotWritable(resolve(path))
  if (problem) throw new CliError(`${flag}: cannot write '${path}': ${problem}`, ExitCode.Usage)
}

/** Writes the file after the run; a failure now (the disk filled up, the folder went) exits 1. */
export async function writeOutputFile(flag: string, path: string, data: string): Promise<void> {
  await writeFileAtomic(path, data).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${flag}: cannot write '${path}': ${error.code ?? error.message}`, ExitCode.Failure)
  })
}

async function whyNotWritable(path: string): Promise<string | undefined> {
  const existing = await stat(path).catch((error: NodeJS.ErrnoException) => error)
  if (!(existing instanceof Error)) {
    if (existing.isDirectory()) return 'EISDIR'
  } else if (existing.code !== 'ENOENT') {
    return existing.code ?? existing.message
  }
  // writeFileAtomic writes a temporary file beside the target and renames it: the folder must take it.
  const folder = await stat(dirname(path)).catch((error: NodeJS.ErrnoException) => error)
  if (folder instanceof Error) return folder.code ?? folder.message
  if (!folder.isDirectory()) return 'ENOTDIR'
  return access(dirname(path), constants.W_OK).then(() => undefined, (error: NodeJS.ErrnoException) => error.code ?? error.message)
}

/** --out and --report, checked before a run. */
export async function checkOutputFiles(o: {out?: string; report?: string}): Promise<void> {
  await checkOutputFile('--out', o.out)
  await checkOutputFile('--report', o.report)
}
