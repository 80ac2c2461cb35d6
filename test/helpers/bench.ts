// What the bench command tests share: a short end-to-end run and its --json document.

/** A short end-to-end run: 2 publishers, 1 subscriber, 400 messages. */
export const SMALL_RUN = ['-c', '2', '-L', '400', '--duration', '0', '--warmup', '0', '-s', '64', '--workers', '1']

/** The JSON document a `--json` run printed. */
export function benchJson(stdout: string): Record<string, any> {
  return JSON.parse(stdout) as Record<string, any>
}
