import {Flags} from '@oclif/core'
import {ClientCommand} from '../../cli/common/client-command.js'
import {splitCtrlArgv} from '../../cli/ctrl/argv.js'
import {runDynsec} from '../../cli/ctrl/dynsec-run.js'
import {CliError, ExitCode} from '../../cli/common/exit-codes.js'
import {connectionFlags} from '../../cli/common/flags.js'

export default class Ctrl extends ClientCommand {
  static override summary = 'Manage a broker\'s Dynamic Security at run time (mosquitto_ctrl dynsec\'s commands, for midge and Mosquitto)'
  static override description = `Sends one command to $CONTROL/dynamic-security/v1 and prints the answer as mosquitto_ctrl does (--json: the answer object). Connection flags go before "dynsec"; after it come mosquitto_ctrl's arguments, unchanged (createClient's -c and -p included). \`midge ctrl dynsec help\` lists the commands.

Passwords need not be on the command line: the admin's (to connect, and for init) from MIDGE_PASSWORD, --password-file or a prompt; a new client's (createClient, setClientPassword) from MIDGE_CLIENT_PASSWORD, --client-password-file or a prompt (without a terminal, createClient makes a client without a password and setClientPassword reads one line of stdin).

Exit codes: 0 done; 1-5 / 128-162 the broker refused the connection (its CONNACK code); 2 bad usage; 10 unreadable file; 11 broker unreachable; 12 connection lost; 13 the request was refused (no publishClientSend on $CONTROL); 14 the response subscription was refused; 18 the broker answered with an error (printed: "COMMAND: ERROR"); 27 no answer within --timeout.`

  static override usage = ['ctrl dynsec init FILE ADMIN', 'ctrl [CONNECTION FLAGS] dynsec COMMAND [ARGUMENTS...]']
  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> ctrl dynsec init dynamic-security.json admin', description: 'A new configuration file with an admin client (the password is asked)'},
    {command: 'MIDGE_PASSWORD=s3cret <%= config.bin %> ctrl -u admin dynsec createClient sensor-1 -c sensor-1 -p device-pw', description: 'A client that must connect with client id sensor-1'},
    {command: '<%= config.bin %> ctrl -u admin dynsec addRoleACL sensors publishClientSend \'sensors/%c/#\' allow 5', description: 'Each sensor may publish under its own client id'},
    {command: '<%= config.bin %> ctrl -u admin --json dynsec getClient sensor-1 | jq .data.client.roles', description: 'Answers as JSON for scripts'},
  ]

  static override flags = {
    ...connectionFlags(),
    json: Flags.boolean({description: 'Print the broker\'s answer as one JSON object'}),
    timeout: Flags.integer({min: 1, default: 10, helpValue: 'SECONDS', description: 'Seconds to wait for the answer (then exit 27)'}),
    'client-password-file': Flags.string({helpValue: 'FILE', description: 'createClient, setClientPassword: the new password from the first line of FILE (or MIDGE_CLIENT_PASSWORD)'}),
  }

  async run(): Promise<void> {
    const [before, module, rest] = splitCtrlArgv(this.argv, Ctrl.flags as Record<string, {char?: string; type: string}>)
    const {flags, argv} = await this.parse(Ctrl, before)
    if (module === undefined || argv.length > 0) {
      throw new CliError(`expected \`dynsec COMMAND\`${argv.length > 0 ? `, got '${argv[0]}'` : ''} (modules: dynsec; see \`midge ctrl dynsec help\`)`, ExitCode.Usage)
    }
    await runDynsec(flags, rest, (text) => { process.stdout.write(text) })
  }
}
