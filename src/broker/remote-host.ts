/**
 * The host part of a remote address as listeners give it (`10.0.0.7:51234`, `[::1]:51234`), so that
 * every connection from one machine counts as one source; anything else is returned as it is.
 */
export function remoteHost(address: string | undefined): string {
  if (address === undefined) return ''
  if (address.startsWith('[')) {
    const end = address.indexOf(']')
    return end > 0 ? address.slice(1, end) : address
  }
  const colon = address.lastIndexOf(':')
  // one colon: host:port; none, or several (a bare IPv6 address): no port to strip
  return colon > 0 && address.indexOf(':') === colon && /^\d+$/.test(address.slice(colon + 1)) ? address.slice(0, colon) : address
}
