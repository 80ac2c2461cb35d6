// A file system error as a few words for a one-line message (configuration and TLS files).

/** ENOENT: 'no such file', ...; the error's own message otherwise. */
export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  return ({ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory', ENOTDIR: 'not a directory'} as Record<string, string>)[e.code ?? ''] ?? e.message
}
