import {isUtf8} from 'node:buffer'

/** Whether bytes are well-formed UTF-8 (for Payload Format Indicator 1, [MQTT-3.3.2-4]). */
export function isValidUtf8(bytes: Buffer): boolean {
  return isUtf8(bytes)
}
