import {benchConfig, benchConnectionFlags, benchRunFlags, benchSubscriberFlags, benchWarmupFlag} from '../../cli/bench/flags.js'
import {BENCH_EXIT_CODES, benchRunOptions, runBenchCommand} from '../../cli/bench/run.js'
import {ClientCommand} from '../../cli/common/client-command.js'

export default class BenchSub extends ClientCommand {
  static override summary = 'Subscribe load: -c subscribers; delivered rate, sequence gaps, duplicates, reordering and latency of bench pub\'s messages'
  static override description = `The subscribing half of \`bench\`. Start it first, then \`bench pub\`; it measures for --duration after --warmup (0: until -L messages or Ctrl-C). Loss is counted from gaps in each publisher's sequence numbers.

${BENCH_EXIT_CODES}`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -h broker -c 10 -t \'bench/#\' --duration 0', description: 'Until Ctrl-C, then the summary'},
    {command: '<%= config.bin %> <%= command.id %> -t \'bench/#\' -L 100000 --json', description: 'Stop after 100,000 messages'},
  ]

  static override flags = {...benchConnectionFlags(), ...benchSubscriberFlags(), ...benchRunFlags('sub'), ...benchWarmupFlag()}

  async run(): Promise<void> {
    const {flags} = await this.parse(BenchSub)
    await runBenchCommand(await benchConfig('sub', flags), benchRunOptions(flags, this.config.root))
  }
}
