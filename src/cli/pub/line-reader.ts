/**
 * Splits a byte stream into lines at '\n' (the '\n' removed, everything else kept as bytes, as
 * mosquitto_pub -l does). A last line without '\n' is yielded too if it is not empty.
 */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    let start = 0
    let nl = buf.indexOf(0x0a)
    if (nl >= 0 && rest) {
      yield Buffer.concat([rest, buf.subarray(0, nl)])
      rest = undefined
      start = nl + 1
      nl = buf.indexOf(0x0a, start)
    }
    while (nl >= 0) {
      yield buf.subarray(start, nl)
      start = nl + 1
      nl = buf.indexOf(0x0a, start)
    }
    if (start < buf.length) rest = rest ? Buffer.concat([rest, buf.subarray(start)]) : buf.subarray(start)
  }
  if (rest?.length) yield rest
}

/** All of a stream as one buffer. */
export async function readAll(input: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks)
}
