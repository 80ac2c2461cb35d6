// A broker configured as `midge broker start` configures it, in this process: serveBroker with settings
// resolved from flags (and optionally a mosquitto.conf) the way the command resolves them. For tests
// that need a configured broker (authentication, Dynamic Security, persistence) but not its process.
import pino from 'pino'
import {serveBroker, type ServeSettings, type ServedBroker} from '../../src/cli/broker/serve-broker.js'
import {readMosquittoConf, resolveBrokerSettings, type SettingsFlags} from '../../src/cli/broker/settings.js'
import type {BrokerOptions} from '../../src/index.js'

export interface ServedMidge {
  port: number
  url: string
  served: ServedBroker
  /** Shuts the broker down, as SIGTERM does for `broker start`. */
  stop(): Promise<void>
}

/**
 * `flags` are broker start's (`{port: 0, dynsec: FILE}`, listener port 0 unless given); `config` a
 * mosquitto.conf path; `extra` what the command adds (plugins, bridges, version).
 */
export async function serveMidge(flags: SettingsFlags = {}, options: {config?: string; engine?: Partial<BrokerOptions>; extra?: Partial<ServeSettings>} = {}): Promise<ServedMidge> {
  const file = options.config === undefined ? undefined : await readMosquittoConf(options.config)
  const f: SettingsFlags = file === undefined && flags.port === undefined && flags.listener === undefined ? {port: 0, ...flags} : flags
  const settings: ServeSettings = {...resolveBrokerSettings(f, options.engine ?? {}, file?.config), warnings: file?.warnings, ...options.extra}
  const controller = new AbortController()
  const served = await serveBroker(settings, {signal: controller.signal, logger: pino({level: 'silent'}), process: false})
  const port = served.listeners[0]!.listener.address().port
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    served,
    async stop() {
      controller.abort('test')
      await served.closed
    },
  }
}
