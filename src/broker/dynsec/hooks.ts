// The engine's auth hooks with Dynamic Security first and the password file and ACL file after it, in
// the order Mosquitto 2.0 calls them: a plugin that defers hands the question on; when everyone defers
// a login is refused (anonymous ones aside, with allow_anonymous) and an ACL check is denied.
import {ReasonCode} from '../../codec/index.js'
import type {AuthDenial, FileAuth} from '../auth/file-auth.js'
import type {AuthenticateRequest, AuthHooks, ClientInfo} from '../auth/hooks.js'
import type {Dynsec} from './engine.js'
import type {Access} from './types.js'

export interface DynsecHookOptions {
  /** The password file and ACL file, consulted when Dynamic Security defers. */
  files?: FileAuth
  /** Accept clients without a user name when nothing else decides (allow_anonymous). */
  allowAnonymous?: boolean
  onDenied?: (denial: AuthDenial) => void
}

export function dynsecHooks(dynsec: Dynsec, options: DynsecHookOptions = {}): Required<Omit<AuthHooks, 'interceptPublish'>> {
  const {files, allowAnonymous = false, onDenied} = options
  const passwords = () => files?.state.passwords !== undefined
  const acl = () => files?.state.acl !== undefined
  const deny = (action: AuthDenial['action'], c: ClientInfo, reason: string, topic?: string) =>
    onDenied?.({action, clientId: c.clientId, username: c.username, remoteAddress: c.remoteAddress, topic, reason})
  const decide = (access: Access, c: ClientInfo, topic: string, fallback: () => boolean | Promise<boolean>): boolean | Promise<boolean> => {
    const verdict = dynsec.check(access, c, topic)
    if (verdict !== 'defer') return verdict === 'allow'
    return acl() ? fallback() : false
  }
  return {
    async authenticate(req: AuthenticateRequest): Promise<boolean | number> {
      const verdict = await dynsec.authenticate(req, req.password)
      if (verdict === 'allow') return true
      if (verdict === 'defer' && passwords()) return files!.authenticate(req)
      if (verdict === 'defer' && req.username === undefined && allowAnonymous) return true
      deny('connect', req, verdict === 'deny' ? 'dynamic security: bad password, disabled client or wrong client id' : 'unknown user name (dynamic security)')
      return ReasonCode.NotAuthorized
    },
    // $SYS and $share/ topics: only an ACL file rule naming the topic opens them (Dynamic Security does not)
    grantsReserved: (c, topic) => files?.grantsReserved(c, topic) === true,
    authorizePublish(c, topic, qos, retain) {
      const ok = decide('publishClientSend', c, topic, () => files!.authorizePublish(c, topic, qos, retain))
      if (ok === false) deny('publish', c, 'no publishClientSend access', topic)
      return ok
    },
    authorizeSubscribe(c, filter, qos) {
      const ok = decide('subscribe', c, filter, () => files!.authorizeSubscribe(c, filter, qos))
      if (ok === false) deny('subscribe', c, 'no subscribe access', filter)
      return ok
    },
    authorizeUnsubscribe(c, filter) {
      return decide('unsubscribe', c, filter, () => true) as boolean
    },
    authorizeDeliver(c, topic) {
      return decide('publishClientReceive', c, topic, () => files!.authorizeDeliver(c, topic)) as boolean
    },
  }
}
