// Splits `midge ctrl [FLAGS] dynsec COMMAND [ARGS]`: the flags before the module name are midge's
// connection flags; everything after it belongs to the command, so that mosquitto_ctrl's own `-c` and
// `-p` (createClient's client id and password) keep their meaning.

interface FlagSpec {
  char?: string
  type: string
}

/** midge's own long flags, taken wherever they are: mosquitto_ctrl has none of these. */
const OWN = new Map([['--json', false], ['--timeout', true], ['--client-password-file', true], ['--password-file', true]])

/** [flags before the module, the module, the rest]; the module is undefined when absent. */
export function splitCtrlArgv(argv: readonly string[], flags: Record<string, FlagSpec>, module = 'dynsec'): [string[], string | undefined, string[]] {
  const [before, found, rest] = split(argv, flags, module)
  const own: string[] = []
  const args: string[] = []
  for (let i = 0; i < rest.length; i++) {
    const name = rest[i].split('=')[0]
    const takesValue = OWN.get(name)
    if (takesValue === undefined) { args.push(rest[i]); continue }
    own.push(rest[i])
    if (takesValue && !rest[i].includes('=') && i + 1 < rest.length) own.push(rest[++i])
  }
  return [[...before, ...own], found, args]
}

function split(argv: readonly string[], flags: Record<string, FlagSpec>, module: string): [string[], string | undefined, string[]] {
  const takesValue = new Set<string>()
  for (const [name, spec] of Object.entries(flags)) {
    if (spec.type !== 'option') continue
    takesValue.add(`--${name}`)
    if (spec.char) takesValue.add(`-${spec.char}`)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (takesValue.has(a)) { i++; continue }
    if (a.toLowerCase() === module) return [argv.slice(0, i), module, argv.slice(i + 1)]
  }
  return [[...argv], undefined, []]
}
