import {benchConfig, benchConnectionFlags, benchEndToEndFlags, benchPublisherFlags, benchRunFlags, benchWarmupFlag} from '../../cli/bench/flags.js'
import {BENCH_EXIT_CODES, benchRunOptions, runBenchCommand} from '../../cli/bench/run.js'
import {loadScenarios} from '../../cli/bench/scenario-file.js'
import {runScenarios} from '../../cli/bench/scenario-run.js'
import {runRamp} from '../../cli/bench/ramp-run.js'
import {parseRamp} from '../../bench/ramp.js'
import {parseLatency} from '../../bench/units.js'
import {CliError, ExitCode} from '../../cli/common/exit-codes.js'
import {ClientCommand} from '../../cli/common/client-command.js'
import {Flags} from '@oclif/core'

export default class Bench extends ClientCommand {
  static override summary = 'Benchmark a broker end to end: publishers to subscribers, with throughput, latency, loss and CI gates'
  static override description = `Publishers (-c) send to -t, subscribers (--subs) receive on --sub-topic; every payload carries a sequence number and a send timestamp, so loss, duplicates, reordering and end-to-end latency (HDR histograms: p50 p90 p99 p99.9 max) are measured per message. By default the load is closed loop: the publishers send as fast as the broker takes while at most --max-outstanding deliveries are on their way, so nothing is dropped for being ahead; --rate or -I (a schedule, latency from the intended send time) and --open-loop (as fast as the sockets take) are open loop, overload on purpose. The summary says which loop ran and why any delivery was lost. Status on stderr every second; the summary (or --json) on stdout.

Modes: bench conn (connections only), bench pub and bench sub (the two halves, e.g. on two machines).

${BENCH_EXIT_CODES}`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --embedded', description: 'Fan-in (10 publishers, 1 subscriber) against a midge broker started for the run'},
    {command: '<%= config.bin %> <%= command.id %> -h broker -c 10 --rate 10k -s 100 --fail-if \'p99>20ms\' --fail-if \'loss>0\'', description: 'Latency at a fixed rate, as a CI gate'},
    {command: '<%= config.bin %> <%= command.id %> -c 1 --subs 100 -t bench/fanout --sub-topic bench/fanout', description: 'Fan-out to 100 subscribers'},
    {command: '<%= config.bin %> <%= command.id %> --embedded --scenario builtin', description: 'The built-in scenarios (fan-in, fan-out, QoS 1, a fixed rate) one after the other, one table'},
    {command: '<%= config.bin %> <%= command.id %> -q 1 --json > base.json && <%= config.bin %> <%= command.id %> -q 1 --baseline base.json', description: 'Fail when throughput drops below 0.9x of an earlier run'},
  ]

  static override flags = {...benchConnectionFlags(), ...benchPublisherFlags(), ...benchEndToEndFlags(), ...benchRunFlags('e2e'), ...benchWarmupFlag(),
    scenario: Flags.string({helpGroup: 'RUN AND REPORT', helpValue: 'FILE', exclusive: ['baseline', 'report'],
      description: 'Run the scenarios of a JSON or YAML file in order (keys: the long flag names), one row each; builtin or builtin:NAME,... for the shipped ones'}),
    ramp: Flags.string({helpGroup: 'RUN AND REPORT', helpValue: 'FROM..TO/s over DURATION', dependsOn: ['p99-limit'],
      exclusive: ['scenario', 'baseline', 'report', 'rate', 'interval-of-msg', 'open-loop', 'max-outstanding', 'json-stream', 'fail-if'],
      description: 'Raise the publish rate step by step (open loop, up to 10 steps, e.g. \'0..50000/s over 60s\'): report the highest rate whose end-to-end p99 stayed under --p99-limit with nothing lost'}),
    'p99-limit': Flags.string({helpGroup: 'RUN AND REPORT', helpValue: 'MS', dependsOn: ['ramp'], description: 'With --ramp: the p99 latency limit, in ms (or with a unit: 500us, 0.02s)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Bench)
    if (flags.ramp) {
      let ramp, limit
      try {
        ramp = parseRamp(flags.ramp)
        const text = flags['p99-limit']!
        limit = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) * 1000 : parseLatency(text)
        if (!(limit > 0)) throw new TypeError(`--p99-limit '${text}' must be above 0`)
      } catch (error) {
        throw new CliError(`--ramp: ${(error as Error).message}`, ExitCode.Usage)
      }
      await runRamp(await benchConfig('e2e', flags), ramp, limit, benchRunOptions(flags, this.config.root))
      return
    }
    if (flags.scenario) {
      const {file, scenarios} = await loadScenarios(flags.scenario, this.config.root)
      await runScenarios(file, scenarios, flags, benchRunOptions(flags, this.config.root))
      return
    }
    await runBenchCommand(await benchConfig('e2e', flags), benchRunOptions(flags, this.config.root))
  }
}
