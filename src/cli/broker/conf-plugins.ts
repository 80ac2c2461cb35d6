// mosquitto.conf's `plugin PATH` lines and the `plugin_opt_NAME VALUE` lines after each: recorded in
// order for the broker to load. A JavaScript module (or `midge:http`, `midge:jwt`) is loaded as a
// plugin; a native Mosquitto plugin (.so) cannot be, except Dynamic Security, which midge implements.
import {text, ValueError} from './conf-values.js'

/** One `plugin` line and its `plugin_opt_*` options. */
export interface ConfPlugin {
  module: string
  options: Record<string, string>
  /** `FILE:LINE` of the plugin line. */
  origin: string
}

export function isDynamicSecurity(module: string): boolean {
  return module.includes('dynamic_security')
}

/** `plugin PATH`: appended to `plugins`. */
export function addConfPlugin(plugins: ConfPlugin[], args: string, origin: string): void {
  const module = text(args)
  if (/\.(so|dll|dylib)(\.\d+)*$/.test(module) && !isDynamicSecurity(module)) {
    throw new ValueError(`${module} is a native Mosquitto plugin, which midge cannot load: use a JavaScript plugin module, midge:http or midge:jwt`)
  }
  plugins.push({module, options: {}, origin})
}

/** `plugin_opt_NAME VALUE`: an option of the last plugin line. */
export function addConfPluginOption(plugins: ConfPlugin[], name: string, args: string): void {
  const plugin = plugins.at(-1)
  if (plugin === undefined) throw new ValueError('a plugin_opt_ line must follow the plugin line it configures')
  if (name === '') throw new ValueError('plugin_opt_ needs an option name')
  if (name in plugin.options) throw new ValueError(`duplicate plugin_opt_${name} for plugin ${plugin.module}`)
  plugin.options[name] = args
}
