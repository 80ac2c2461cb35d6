// Starts Debian's real `mosquitto` broker on free ports with a temporary config, and stops it.
// Options add a password file, an ACL, a Unix socket, a TLS listener (self-signed certificates made
// with openssl) and a WebSocket front (a `ws` bridge to the TCP listener, since Debian builds
// mosquitto without websockets).
import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, connect as netConnect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {once} from 'node:events'
import {orphanSafe} from './cli.js'

export interface MosquittoOptions {
  /** user -> password; anonymous access is then refused. */
  users?: Record<string, string>
  /** The text of an ACL file (mosquitto's format). */
  acl?: string
  unixSocket?: boolean
  tls?: boolean
  websocket?: boolean
  /** Extra lines for mosquitto.conf (applied to the default listener). */
  config?: string[]
}

export interface Mosquitto {
  host: string
  port: number
  url: string
  dir: string
  socketPath?: string
  tlsPort?: number
  /** The CA certificate (PEM file) that signed the TLS listener's certificate. */
  caFile?: string
  wsPort?: number
  log(): string
  stop(): Promise<void>
}

/** True when Debian's mosquitto tools are installed (tests that need them are skipped otherwise). */
export function hasMosquitto(): boolean {
  return spawnSync('mosquitto_sub', ['--help'], {stdio: 'ignore'}).error === undefined
}

/**
 * A port free now, for a server another process will bind. It is picked below Linux's ephemeral range
 * (32768-60999, where port 0 binds and outgoing connections take theirs), so that between this check
 * and that bind no other test's connection or port-0 server can take it; only another pick of the
 * same random port could, which the retry makes rarer still.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const server = createServer()
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (!bound) continue
    server.close()
    await once(server, 'close')
    return port
  }
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'midge-mosq-'))
  const port = await freePort()
  // run as ourselves (as root, mosquitto would switch to a user that cannot read the temp folder)
  const lines = ['per_listener_settings false', `user ${userInfo().username}`, `listener ${port} 127.0.0.1`, ...(options.config ?? [])]
  if (options.users) {
    const file = join(dir, 'passwd')
    writeFileSync(file, '')
    for (const [user, password] of Object.entries(options.users)) execFileSync('mosquitto_passwd', ['-b', file, user, password])
    lines.push(`password_file ${file}`, 'allow_anonymous false')
  } else {
    lines.push('allow_anonymous true')
  }
  if (options.acl !== undefined) {
    writeFileSync(join(dir, 'acl'), options.acl)
    lines.push(`acl_file ${join(dir, 'acl')}`)
  }
  const socketPath = options.unixSocket ? join(dir, 'mosquitto.sock') : undefined
  if (socketPath) lines.push(`listener 0 ${socketPath}`)
  let tlsPort: number | undefined
  let caFile: string | undefined
  if (options.tls) {
    tlsPort = await freePort()
    caFile = makeCertificates(dir)
    lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${caFile}`, `certfile ${join(dir, 'server.crt')}`, `keyfile ${join(dir, 'server.key')}`)
  }
  writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n') + '\n')
  const child = spawn(...orphanSafe('mosquitto', ['-c', join(dir, 'mosquitto.conf')]), {stdio: ['ignore', 'pipe', 'pipe']})
  // never outlive the test process, even when a test fails before stop() or the runner is killed
  const reap = () => { child.kill('SIGKILL'); rmSync(dir, {recursive: true, force: true}) }
  process.once('exit', reap)
  child.once('exit', () => process.off('exit', reap))
  let log = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { log += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d })
  let bridge: Awaited<ReturnType<typeof webSocketBridge>> | undefined
  try {
    await waitForPort(port, child, () => log)
    bridge = options.websocket ? await webSocketBridge(port) : undefined
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL')
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
  return {
    host: '127.0.0.1', port, url: `mqtt://127.0.0.1:${port}`, dir, socketPath, tlsPort, caFile, wsPort: bridge?.port,
    log: () => log,
    async stop() {
      await bridge?.close()
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** Polls until mosquitto accepts connections; the 30 s bound only decides how soon a broken start fails. */
async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({host: '127.0.0.1', port}, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`mosquitto did not start: ${log()}`)
}

function makeCertificates(dir: string): string {
  const run = (args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: 'ignore'})
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=midge test CA'])
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'])
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext'])
  return join(dir, 'ca.crt')
}

async function webSocketBridge(mqttPort: number): Promise<{port: number; close: () => Promise<void>}> {
  const {WebSocketServer, createWebSocketStream} = await import('ws')
  const wss = new WebSocketServer({host: '127.0.0.1', port: 0, handleProtocols: (p) => p.has('mqtt') ? 'mqtt' : false})
  await once(wss, 'listening')
  wss.on('connection', (ws) => {
    const stream = createWebSocketStream(ws)
    const tcp = netConnect({host: '127.0.0.1', port: mqttPort})
    stream.pipe(tcp).pipe(stream)
    stream.on('error', () => tcp.destroy())
    tcp.on('error', () => stream.destroy())
    tcp.on('close', () => stream.destroy())
  })
  return {
    port: (wss.address() as {port: number}).port,
    close: () => new Promise((resolve) => {
      for (const c of wss.clients) c.terminate()
      wss.close(() => resolve())
    }),
  }
}
