// Certificates for the TLS tests, made with openssl in a temporary folder (EC keys: quick to make).
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface Pem {
  certPath: string
  keyPath: string
  cert: string
  key: string
}

export interface TestPki {
  dir: string
  /** The CA that signs the server and the good client certificates. */
  ca: Pem
  /** A CA nobody trusts. */
  otherCa: Pem
  /** localhost / 127.0.0.1, signed by ca. */
  server: Pem
  /** CN=alice, OU=dev, O=Example Org, C=GB, signed by ca. */
  client: Pem
  /** CN=mallory, signed by otherCa. */
  unknownClient: Pem
  /** CN=old, signed by ca, expired yesterday. */
  expiredClient: Pem
  /** O=No Name (no CN), signed by ca. */
  noCnClient: Pem
  /** Another server certificate (a reload test tells it apart by its serial). */
  server2: Pem
  remove(): void
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'midge-pki-'))
  const run = (args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: 'pipe'})
  const pem = (name: string): Pem => ({
    certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`),
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8'),
  })
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  const makeCa = (name: string, subject: string) => {
    run(['req', '-x509', ...key, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '3', '-subj', subject])
    return pem(name)
  }
  const sign = (name: string, subject: string, ca: string, days: string, ext?: string) => {
    run(['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject])
    const extArgs: string[] = []
    if (ext !== undefined) {
      writeFileSync(join(dir, `${name}.ext`), ext)
      extArgs.push('-extfile', `${name}.ext`)
    }
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', days, ...extArgs])
    return pem(name)
  }
  const ca = makeCa('ca', '/CN=midge test CA')
  const otherCa = makeCa('other-ca', '/CN=someone else')
  const serverExt = 'subjectAltName=DNS:localhost,IP:127.0.0.1\n'
  return {
    dir, ca, otherCa,
    server: sign('server', '/CN=localhost', 'ca', '3', serverExt),
    server2: sign('server2', '/CN=localhost', 'ca', '3', serverExt),
    client: sign('client', '/C=GB/O=Example Org/OU=dev/CN=alice', 'ca', '3'),
    unknownClient: sign('unknown', '/CN=mallory', 'other-ca', '3'),
    expiredClient: sign('expired', '/CN=old', 'ca', '-1'),
    noCnClient: sign('nocn', '/O=No Name', 'ca', '3'),
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
}
