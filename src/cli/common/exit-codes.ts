// The exit-code contract of pub, sub, bench and passwd (documented in the README, tested code by code).
// Mosquitto's codes are kept where they exist: a refused CONNECT exits with its CONNACK code
// (v3: 1-5, v5: 128-162) and a -W timeout with 27. Our own codes sit between those ranges.

export const ExitCode = {
  Success: 0,
  /** An unexpected failure (a bug or an error with no more precise code). */
  Failure: 1,
  /** Bad usage: unknown flag, invalid value, conflicting flags (oclif's own code for parse errors). */
  Usage: 2,
  /** An input file (-f, --password-file, password file, ACL, config) is missing or unreadable. */
  InputFile: 10,
  /** The broker could not be reached (DNS, refused, TLS handshake, timeout before CONNACK). */
  ConnectFailed: 11,
  /** The connection was lost after CONNACK before the work was done. */
  ConnectionLost: 12,
  /** The broker refused a publish (PUBACK/PUBREC reason >= 0x80). */
  PublishRefused: 13,
  /** The broker refused a subscription (SUBACK reason >= 0x80). */
  SubscribeRefused: 14,
  /** An expectation failed: `sub` assertions, `bench` gates. */
  AssertionFailed: 15,
  /** `passwd --verify`: the password does not match (or the user does not exist). */
  PasswordMismatch: 16,
  /** The broker could not start (port in use, bad configuration, unusable storage). */
  BrokerStartFailed: 17,
  /** `ctrl`: the broker answered the command with an error (printed on stderr). */
  CommandRefused: 18,
  /** -W: the time limit ran out (mosquitto_sub's code). */
  Timeout: 27,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** An error meant for the user: printed as one line on stderr, then the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.Failure) {
    super(message)
    this.name = 'CliError'
  }
}
