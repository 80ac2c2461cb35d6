// Dynamic Security test helpers: an admin's file made by Debian's `mosquitto_ctrl dynsec init`, a
// Mosquitto with its dynamic security plugin, and mosquitto_ctrl runs against a port.
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {collect, type RunResult} from './cli.js'
import {startMosquitto, type Mosquitto} from './mosquitto.js'

export const PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so'
export const ADMIN = {username: 'admin', password: 'admin-secret'}

const installed = (command: string, args: string[]) => spawnSync(command, args, {stdio: 'ignore'}).error === undefined

/** Why the Debian tools these tests need are missing, or false when they are installed. */
export function dynsecSkip(): string | false {
  if (!installed('mosquitto_ctrl', ['--help']) || !installed('mosquitto', ['-h'])) return 'Debian mosquitto and mosquitto-clients are not installed'
  if (spawnSync('test', ['-f', PLUGIN]).status !== 0) return `${PLUGIN} is not installed`
  return false
}

/** A new dynamic-security.json with the admin user, written by mosquitto_ctrl itself. */
export function initFile(path: string): void {
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', path, ADMIN.username, ADMIN.password], {stdio: 'ignore'})
}

/** Debian's Mosquitto with the dynamic security plugin on `file`. */
export function startMosquittoDynsec(file: string, extra: string[] = []): Promise<Mosquitto> {
  return startMosquitto({config: [`plugin ${PLUGIN}`, `plugin_opt_config_file ${file}`, ...extra]})
}

/** mosquitto_ctrl as the admin; stderr without its "running without encryption" warning. */
export async function mosquittoCtrl(port: number, args: string[], login: string[] = ['-u', ADMIN.username, '-P', ADMIN.password]): Promise<RunResult> {
  const r = await collect(spawn('mosquitto_ctrl', ['-h', '127.0.0.1', '-p', String(port), ...login, 'dynsec', ...args]), 20_000)
  return {...r, stderr: r.stderr.replace(/Warning: You are running mosquitto_ctrl without encryption\.\nThis means all of the configuration changes you are making are visible on the network, including passwords\.\n\n/g, '')}
}
