import {Args, Flags} from '@oclif/core'
import {MidgeCommand} from '../cli/common/base-command.js'
import {CliError, ExitCode} from '../cli/common/exit-codes.js'
import {readPassword} from '../cli/passwd/read-password.js'
import {ARGON2ID_DEFAULTS, PBKDF2_DEFAULTS, PasswordFile, PasswordFileError, PasswordInputError,
  loadPasswordFile, savePasswordFile, validateUsername, type HashOptions} from '../passwd/index.js'

export default class Passwd extends MidgeCommand {
  static override summary = 'Manage a Mosquitto-compatible password file (argon2id by default)'
  static override usage = [
    'passwd [-c] [-H argon2id|pbkdf2] FILE USER',
    'passwd [-c] -b FILE USER PASSWORD',
    'passwd -D FILE USER',
    'passwd -U FILE',
    'passwd --verify FILE USER',
    'passwd --list FILE',
  ]

  static override description = `Mosquitto's mosquitto_passwd usage works unchanged. Each line is user:hash. midge reads $argon2id$, $7$ (pbkdf2, 12- or 64-byte salt) and $6$ (sha512) lines. It writes argon2id (m=${ARGON2ID_DEFAULTS.memory} KiB, t=${ARGON2ID_DEFAULTS.iterations}, p=${ARGON2ID_DEFAULTS.parallelism}), or with --hash pbkdf2 a $7$ line with a 12-byte salt and ${PBKDF2_DEFAULTS.iterations} iterations, which every Mosquitto 2.x reads.

The password comes from PASSWORD with -b, else --password-file, else MIDGE_PASSWORD, else a prompt (asked twice) when stdin is a terminal, else the first line of stdin.

The file is replaced atomically: a new file gets mode 0600, an existing one keeps its mode.

Exit codes: 0 success; 1 user not found (-D); 2 bad usage or input (a user name with ':' or a control character, an empty password); 10 missing, unreadable or malformed file (the message names the line); 16 --verify did not match.`

  static override examples = [
    {command: '<%= config.bin %> passwd -c users.pw alice', description: 'Create users.pw with alice (asks for the password twice)'},
    {command: '<%= config.bin %> passwd -b users.pw bob s3cret', description: 'Add or update bob in batch mode'},
    {command: 'MIDGE_PASSWORD=s3cret <%= config.bin %> passwd --hash pbkdf2 users.pw carol', description: 'Add carol as $7$ for an older Mosquitto, password from the environment'},
    {command: '<%= config.bin %> passwd -D users.pw bob', description: 'Delete bob'},
    {command: '<%= config.bin %> passwd -U plain.pw', description: 'Hash every plaintext user:password line (hashed lines are left alone)'},
    {command: '<%= config.bin %> passwd -c -b - alice s3cret', description: 'Print a one-user file to stdout'},
    {command: '<%= config.bin %> passwd --verify --password-file pw.txt users.pw alice', description: 'Exit 0 if the password matches, 16 if not'},
    {command: '<%= config.bin %> passwd --list users.pw', description: 'List the users'},
  ]

  // ignoreStdin: oclif would otherwise fill a missing argument from piped stdin, which holds the password
  static override args = {
    file: Args.string({description: 'Password file ("-" with -c: write to stdout)', required: true, ignoreStdin: true}),
    user: Args.string({description: 'User name (no ":" or control characters)', ignoreStdin: true}),
    password: Args.string({description: 'Password (only with -b)', ignoreStdin: true}),
  }

  static override flags = {
    create: Flags.boolean({char: 'c', description: 'Create a new file, overwriting any existing one'}),
    batch: Flags.boolean({char: 'b', description: 'Take the password from the PASSWORD argument'}),
    delete: Flags.boolean({char: 'D', description: 'Delete USER', exclusive: ['create', 'batch', 'update', 'verify', 'list']}),
    update: Flags.boolean({char: 'U', description: 'Hash the plaintext passwords in FILE', exclusive: ['create', 'verify', 'list', 'batch']}),
    verify: Flags.boolean({description: "Check USER's password: exit 0 on a match, 16 otherwise", exclusive: ['create', 'list']}),
    list: Flags.boolean({description: 'Print the users in FILE, one per line', exclusive: ['create', 'batch']}),
    'password-file': Flags.string({description: 'Read the password from the first line of this file', helpValue: 'FILE'}),
    hash: Flags.string({char: 'H', description: 'Hash to write (sha512-pbkdf2 is an alias of pbkdf2; sha512 is never written)', options: ['argon2id', 'pbkdf2', 'sha512-pbkdf2'], default: 'argon2id'}),
    memory: Flags.integer({description: `argon2id memory in KiB [default: ${ARGON2ID_DEFAULTS.memory}]`}),
    iterations: Flags.integer({char: 'I', description: `argon2id passes [default: ${ARGON2ID_DEFAULTS.iterations}] or pbkdf2 iterations [default: ${PBKDF2_DEFAULTS.iterations}]`}),
    parallelism: Flags.integer({description: `argon2id lanes [default: ${ARGON2ID_DEFAULTS.parallelism}]`}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Passwd)
    const {file, user, password} = args
    const needsUser = !flags.update && !flags.list
    if (needsUser && user === undefined) throw new CliError('missing USER argument', ExitCode.Usage)
    if (!needsUser && user !== undefined) throw new CliError(`unexpected argument ${JSON.stringify(user)}`, ExitCode.Usage)
    if (Boolean(flags.batch) !== (password !== undefined)) throw new CliError(flags.batch ? 'missing PASSWORD argument (-b)' : 'a PASSWORD argument needs -b', ExitCode.Usage)
    if (file === '-' && !flags.create) throw new CliError('FILE "-" (stdout) needs -c', ExitCode.Usage)
    if (user !== undefined) validateUsername(user)
    const algorithm = flags.hash === 'argon2id' ? 'argon2id' : 'pbkdf2'
    if (algorithm === 'pbkdf2' && (flags.memory !== undefined || flags.parallelism !== undefined)) throw new CliError('--memory and --parallelism apply to --hash argon2id only', ExitCode.Usage)
    const hashOptions: HashOptions = {algorithm, memory: flags.memory, iterations: flags.iterations, parallelism: flags.parallelism}
    const secret = (confirm: boolean) => readPassword({argv: password, file: flags['password-file'], env: process.env.MIDGE_PASSWORD, confirm})

    if (flags.list) return void process.stdout.write((await loadPasswordFile(file)).users().map((u) => `${u}\n`).join(''))
    if (flags.verify) {
      const entries = await loadPasswordFile(file)
      if (!(await entries.verify(user!, await secret(false)))) throw new CliError(`password does not match for user ${JSON.stringify(user)}`, ExitCode.PasswordMismatch)
      return
    }
    if (flags.update) {
      const entries = await loadPasswordFile(file, {allowPlaintext: true})
      if (await entries.hashPlaintext(hashOptions)) await savePasswordFile(file, entries)
      return
    }
    const entries = flags.create ? PasswordFile.empty() : await loadPasswordFile(file)
    if (flags.delete) {
      if (!entries.delete(user!)) throw new CliError(`user ${JSON.stringify(user)} not found in ${file}`, ExitCode.Failure)
    } else {
      await entries.setPassword(user!, await secret(true), hashOptions)
    }
    if (file === '-') process.stdout.write(entries.serialize())
    else await savePasswordFile(file, entries)
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    // oclif puts the useful line of a flag conflict second; the base command prints only the first
    const [head, detail] = error.message.split('\n')
    if (error.oclif?.exit !== undefined && /^The following errors? occurred/.test(head) && detail) error.message = detail.trim()
    if (error instanceof PasswordFileError) return super.catch(new CliError(error.message, ExitCode.InputFile))
    if (error instanceof PasswordInputError || error instanceof RangeError) return super.catch(new CliError(error.message, ExitCode.Usage))
    const {code, path} = error as NodeJS.ErrnoException
    if (path && code && /^E(NOENT|ACCES|ISDIR|NOTDIR|PERM)$/.test(code)) {
      return super.catch(new CliError(`cannot open ${path}: ${error.message.replace(/^E\w+: |, \w+( '.*')?$/g, '')}`, ExitCode.InputFile))
    }
    return super.catch(error)
  }
}
