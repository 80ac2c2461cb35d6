/**
 * A password file's content is wrong: a malformed line, an unknown hash, a duplicate user. `line` is
 * 1-based when the problem sits on one line. The message already names the file and line.
 */
export class PasswordFileError extends Error {
  constructor(message: string, readonly line?: number) {
    super(message)
    this.name = 'PasswordFileError'
  }
}

/** A user name or password given to the tool is unusable (':' or a control character, empty, too long). */
export class PasswordInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PasswordInputError'
  }
}
