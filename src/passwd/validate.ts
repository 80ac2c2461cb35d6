import {PasswordInputError} from './errors.js'

/** MQTT strings (user name, password) are at most 65,535 bytes of UTF-8 [MQTT-1.5.3]. */
const MAX_BYTES = 65_535

// C0 controls, DEL and C1 controls: never part of a sensible user name, and they break the line format.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** Throws PasswordInputError unless `user` can be stored as a password-file user name. */
export function validateUsername(user: string): void {
  if (user.length === 0) throw new PasswordInputError('user name is empty')
  if (user.includes(':')) throw new PasswordInputError(`user name ${JSON.stringify(user)} contains ':'`)
  if (CONTROL.test(user)) throw new PasswordInputError(`user name ${JSON.stringify(user)} contains a control character`)
  if (Buffer.byteLength(user) > MAX_BYTES) throw new PasswordInputError(`user name is longer than ${MAX_BYTES} bytes`)
}

/** Throws PasswordInputError unless `password` can be hashed (non-empty, fits an MQTT string). */
export function validatePassword(password: string): void {
  if (password.length === 0) throw new PasswordInputError('password is empty')
  if (Buffer.byteLength(password) > MAX_BYTES) throw new PasswordInputError(`password is longer than ${MAX_BYTES} bytes`)
}
