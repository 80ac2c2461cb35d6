/*
 * --cluster-link and --cluster-advertise: where a node listens for the other nodes' links, and the
 * address they dial. No imports: the CLI reads these before it loads the cluster.
 */

/** Where a node listens for links: `[HOST:]PORT` (HOST by default 127.0.0.1, this machine only; `[::1]:PORT` for IPv6). */
export function parseLinkListen(text: string): {host: string; port: number} {
  const {host, port} = split(text.trim())
  if (port === undefined) throw new Error(`${JSON.stringify(text)} is not [HOST:]PORT or off`)
  return {host: host ?? '127.0.0.1', port}
}

/** What the others dial: `HOST[:PORT]` (PORT by default the listening one). */
export function parseAdvertise(text: string): {host: string; port?: number} {
  const t = text.trim()
  // a bare IPv6 address (several colons, no brackets) is a host alone
  if (!t.startsWith('[') && t.split(':').length > 2) return {host: t}
  const {host, port} = split(t)
  if (host === undefined) throw new Error(`${JSON.stringify(text)} is not HOST[:PORT]`)
  return port === undefined ? {host} : {host, port}
}

function split(t: string): {host?: string; port?: number} {
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(t)
  if (bracket) return {host: bracket[1], port: bracket[2] === undefined ? undefined : port(bracket[2], t)}
  const colon = t.lastIndexOf(':')
  if (colon < 0) return /^\d+$/.test(t) ? {port: port(t, t)} : t === '' ? {} : {host: t}
  const host = t.slice(0, colon)
  if (host === '') throw new Error(`${JSON.stringify(t)} has no host before its ':'`)
  return {host, port: port(t.slice(colon + 1), t)}
}

function port(p: string, whole: string): number {
  const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN
  if (!(n >= 0 && n <= 65_535)) throw new Error(`${JSON.stringify(whole)}: ${JSON.stringify(p)} is not a port (0-65535)`)
  return n
}
