// Reading a mosquitto.conf (-c) and the folders it includes: unreadable is exit 10, invalid exit 17
// (every error with its file and line).
import {readdirSync, readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {describeFsError} from './fs-errors.js'
import {MosquittoConfError, parseMosquittoConf, type ConfDiagnostic, type MosquittoConfig} from './mosquitto-conf.js'

/** Reads and parses a mosquitto.conf: unreadable is exit 10, invalid exit 17 (every error with its line). */
export async function readMosquittoConf(path: string): Promise<{config: MosquittoConfig; warnings: ConfDiagnostic[]}> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read the configuration file ${path}: ${describeFsError(error)}`, ExitCode.InputFile)
  }
  try {
    return parseMosquittoConf(text, {source: path, readDir: readConfDir})
  } catch (error) {
    if (error instanceof MosquittoConfError) {
      throw new CliError(`invalid configuration:\n${error.message}`, ExitCode.BrokerStartFailed)
    }
    throw new CliError((error as Error).message, ExitCode.BrokerStartFailed)
  }
}

/** include_dir: the directory's *.conf files, sorted by name (as Mosquitto reads them). */
function readConfDir(dir: string): Array<{path: string; text: string}> {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.conf')).sort()
  } catch (error) {
    throw new MosquittoConfError([{file: dir, line: 0, message: `include_dir: cannot read ${dir}: ${describeFsError(error)}`}])
  }
  return names.map((n) => ({path: join(dir, n), text: readFileSync(join(dir, n), 'utf8')}))
}
