import {Flags} from '@oclif/core'
import {benchConfig, benchConnectionFlags, benchRunFlags} from '../../cli/bench/flags.js'
import {BENCH_EXIT_CODES, benchRunOptions, runBenchCommand} from '../../cli/bench/run.js'
import {ClientCommand} from '../../cli/common/client-command.js'

export default class BenchConn extends ClientCommand {
  static override summary = 'Open -c idle connections at a rate (-R, -i) or concurrency; connect rate, time-to-CONNACK percentiles, failures by reason'
  static override description = `Holds the connections for --duration (0: until Ctrl-C), checks they stay up, then closes them with a TCP reset (no TIME_WAIT on this side; --no-reset sends DISCONNECT).

${BENCH_EXIT_CODES}`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -c 10000 --concurrency 50', description: '10,000 connections, 50 handshakes at a time'},
    {command: '<%= config.bin %> <%= command.id %> -c 1000 -R 200 --fail-if \'connect.p99>100ms\'', description: '200 connections per second, gate on time to CONNACK'},
  ]

  static override flags = {
    ...benchConnectionFlags(),
    count: Flags.integer({char: 'c', helpGroup: 'LOAD', min: 1, default: 1000, description: 'Connections'}),
    reset: Flags.boolean({helpGroup: 'LOAD', allowNo: true, default: true, description: 'Close with a TCP reset instead of DISCONNECT'}),
    ...benchRunFlags('conn'),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(BenchConn)
    const config = await benchConfig('conn', flags)
    config.reset = flags.reset
    await runBenchCommand(config, benchRunOptions(flags, this.config.root))
  }
}
