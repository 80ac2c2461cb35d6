// A listener's TLS settings as files (certfile, keyfile, cafile, capath, crlfile), read into the
// engine's TlsOptions at start and again on every SIGHUP.
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {checkTlsOptions} from '../../broker/internal.js'
import type {TlsOptions} from '../../index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {describeFsError} from './fs-errors.js'

/** The TLS settings of a listener as files (read at start and on every SIGHUP). */
export interface TlsFiles {
  certfile: string
  keyfile: string
  cafile?: string
  capath?: string
  crlfile?: string
  requireCertificate: boolean
  useIdentityAsUsername: boolean
  useSubjectAsUsername: boolean
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  ciphers?: string
  ciphersTls13?: string
}

/**
 * Reads a listener's TLS files into the engine's settings. A file that cannot be read, or settings
 * Mosquitto would refuse, stop the start (exit 17) or, on SIGHUP, keep the previous ones in force.
 */
export async function loadTls(files: TlsFiles, origin: string): Promise<TlsOptions> {
  const read = async (path: string, what: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8')
    } catch (error) {
      throw new CliError(`${origin}: cannot read the ${what} ${path}: ${describeFsError(error)}`, ExitCode.BrokerStartFailed)
    }
  }
  const cert = await read(files.certfile, 'certificate')
  const key = await read(files.keyfile, 'key')
  const ca: string[] = []
  if (files.cafile !== undefined) ca.push(await read(files.cafile, 'CA file'))
  if (files.capath !== undefined) {
    let names: string[]
    try {
      names = (await readdir(files.capath)).filter((n) => /\.(pem|crt)$/.test(n)).sort()
    } catch (error) {
      throw new CliError(`${origin}: cannot read the CA folder ${files.capath}: ${describeFsError(error)}`, ExitCode.BrokerStartFailed)
    }
    for (const n of names) ca.push(await read(join(files.capath, n), 'CA file'))
  }
  const tls: TlsOptions = {
    cert,
    key,
    ca: ca.length === 0 ? undefined : ca,
    crl: files.crlfile === undefined ? undefined : await read(files.crlfile, 'CRL file'),
    requireCertificate: files.requireCertificate,
    useIdentityAsUsername: files.useIdentityAsUsername,
    useSubjectAsUsername: files.useSubjectAsUsername,
    minVersion: files.minVersion,
    ciphers: files.ciphers,
    ciphersTls13: files.ciphersTls13,
  }
  try {
    checkTlsOptions(tls)
  } catch (error) {
    throw new CliError(`${origin}: ${(error as Error).message}`, ExitCode.BrokerStartFailed)
  }
  return tls
}
