import {createServer, type SecureContextOptions, type Server, type TLSSocket, type TlsOptions as NodeTlsOptions} from 'node:tls'
import {ReasonCode, V3ConnackCode} from '../../codec/index.js'
import {Listener, listenOn, peerAddress, type ListenerHandlers, type ListenerSpec, type TlsOptions} from './listener.js'
import {refuseConnection} from './refuse.js'

/**
 * node:tls options for a listener's TLS settings. requireCertificate asks for a client certificate
 * and refuses the handshake without a valid one (unknown CA, expired, missing): the client never
 * gets to send CONNECT.
 */
export function serverTlsOptions(tls: TlsOptions): NodeTlsOptions {
  checkTlsOptions(tls)
  const require = tls.requireCertificate ?? false
  return {
    ...secureContextOptions(tls),
    requestCert: require,
    rejectUnauthorized: require,
  }
}

export function secureContextOptions(tls: TlsOptions): SecureContextOptions {
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    crl: tls.crl,
    minVersion: tls.minVersion ?? 'TLSv1.2',
    ciphers: tls.ciphers,
    ...(tls.ciphersTls13 === undefined ? {} : {ciphersuites: tls.ciphersTls13}),
  } as SecureContextOptions
}

/** Settings Mosquitto refuses to start with. */
export function checkTlsOptions(tls: TlsOptions): void {
  if ((tls.useIdentityAsUsername || tls.useSubjectAsUsername) && !tls.requireCertificate) {
    throw new Error('use_identity_as_username and use_subject_as_username need require_certificate')
  }
  if (tls.useIdentityAsUsername && tls.useSubjectAsUsername) {
    throw new Error('use_identity_as_username and use_subject_as_username cannot both be set')
  }
  if (tls.requireCertificate && tls.ca === undefined) throw new Error('require_certificate needs a CA (cafile) to verify clients with')
}

/**
 * A reload replaces certificates, keys, CAs, CRLs and ciphers for new connections (open ones keep
 * theirs); whether client certificates are asked for is fixed when the listener opens.
 */
export function checkTlsReload(current: TlsOptions, next: TlsOptions): void {
  checkTlsOptions(next)
  for (const key of ['requireCertificate', 'useIdentityAsUsername', 'useSubjectAsUsername'] as const) {
    if ((current[key] ?? false) !== (next[key] ?? false)) throw new Error(`changing ${key} needs a restart`)
  }
}

/**
 * The user name a verified client certificate gives: its Common Name (use_identity_as_username) or
 * its whole subject in RFC 2253 form, as Mosquitto prints it (use_subject_as_username:
 * `CN=alice,OU=dev,O=Example,C=GB`). Undefined when neither is set; null when the certificate lacks it.
 */
export function certificateUsername(socket: TLSSocket, tls: TlsOptions): string | null | undefined {
  if (!tls.useIdentityAsUsername && !tls.useSubjectAsUsername) return undefined
  const cert = socket.getPeerX509Certificate()
  if (cert === undefined) return null
  if (tls.useSubjectAsUsername) return rfc2253(cert.subject)
  const cn = cert.subject.split('\n').find((l) => l.startsWith('CN='))
  return cn === undefined ? null : unescapeRfc2253(cn.slice(3))
}

/** The subject (RFC 2253) of a client certificate the handshake verified; undefined without one. */
export function certificateSubject(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined
  const cert = socket.getPeerX509Certificate()
  return cert === undefined ? undefined : rfc2253(cert.subject)
}

/** Node prints a subject one RDN a line, values escaped per RFC 2253, in certificate order; RFC 2253 reverses it. */
export function rfc2253(subject: string): string {
  return subject.split('\n').filter((l) => l !== '').reverse().join(',')
}

function unescapeRfc2253(value: string): string {
  return value.replace(/\\([0-9a-fA-F]{2}|.)/g, (_, c: string) => c.length === 2 ? String.fromCharCode(parseInt(c, 16)) : c)
}

/**
 * Why a handshake failed. Node checks a client certificate after the handshake and just destroys the
 * socket when it is bad (the error is a "socket hang up"); the reason is on the socket.
 */
export function handshakeError(error: Error, socket: TLSSocket): Error {
  const why = socket.authorizationError as unknown as string | Error | null | undefined
  if (why === null || why === undefined) return error
  const code = typeof why === 'string' ? why : (why as NodeJS.ErrnoException).code ?? why.message
  return Object.assign(new Error(`client certificate refused: ${code}`), {code})
}

/** An `mqtts` listener: MQTT over TLS, optionally mutual. */
export async function openTlsListener(spec: ListenerSpec, handlers: ListenerHandlers): Promise<Listener> {
  if (spec.tls === undefined) throw new Error('an mqtts listener needs a certificate and a key')
  const server = createServer(serverTlsOptions(spec.tls))
  const listener = new TlsListener(spec, server, handlers)
  await listenOn(server, spec)
  return listener
}

class TlsListener extends Listener {
  private tls: TlsOptions

  constructor(spec: ListenerSpec, override readonly server: Server, handlers: ListenerHandlers) {
    super(spec, server, handlers)
    this.tls = spec.tls!
    server.on('connection', (socket) => this.track(socket))
    server.on('secureConnection', (socket: TLSSocket) => admitTls(this, socket, this.tls))
    server.on('tlsClientError', (error, socket) => {
      this.stats.handshakeFailures++
      this.clientError(handshakeError(error, socket), peerAddress(socket))
    })
  }

  override setTls(tls: TlsOptions): void {
    checkTlsReload(this.tls, tls)
    this.server.setSecureContext(secureContextOptions(tls))
    this.tls = tls
  }
}

/** Hands a TLS connection to the engine with its certificate's user name, or refuses it when the certificate has none. */
export function admitTls(listener: Listener, socket: TLSSocket, tls: TlsOptions): void {
  const username = certificateUsername(socket, tls)
  const address = peerAddress(socket)
  if (username === null) {
    // Mosquitto: a certificate without the identity asked for is "not authorized"
    refuseConnection(socket, {reasonCode: ReasonCode.NotAuthorized, reason: 'the client certificate has no common name', v3ReturnCode: V3ConnackCode.NotAuthorized})
    return
  }
  listener.admit(socket, address, username, certificateSubject(socket))
}
