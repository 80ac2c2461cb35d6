import {benchConfig, benchConnectionFlags, benchPublisherFlags, benchRunFlags, benchWarmupFlag} from '../../cli/bench/flags.js'
import {BENCH_EXIT_CODES, benchRunOptions, runBenchCommand} from '../../cli/bench/run.js'
import {ClientCommand} from '../../cli/common/client-command.js'

export default class BenchPub extends ClientCommand {
  static override summary = 'Publish load: -c publishers, as fast as the broker takes or at --rate; publish-to-ack latency at QoS 1/2'
  static override description = `The publishing half of \`bench\`. Payloads carry the bench header (stream = %i + -n, sequence number, send time) that \`bench sub\`, run elsewhere against the same broker, reads to measure loss, reordering and latency (--clock wall when the two run on different hosts).

${BENCH_EXIT_CODES}`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -h broker -c 100 -I 1000 -t sensors/%i', description: '100 clients, one message per second each'},
    {command: '<%= config.bin %> <%= command.id %> -q 1 -F 32 --duration 30s --fail-if \'ack.p99>50ms\'', description: 'QoS 1 with 32 messages in flight per publisher'},
  ]

  static override flags = {...benchConnectionFlags(), ...benchPublisherFlags(), ...benchRunFlags('pub'), ...benchWarmupFlag()}

  async run(): Promise<void> {
    const {flags} = await this.parse(BenchPub)
    await runBenchCommand(await benchConfig('pub', flags), benchRunOptions(flags, this.config.root))
  }
}
