// The peers of `npm run bench:compare`, found (or installed) by the script itself, so that it runs
// from a fresh clone: Debian's mosquitto (installed with apt-get when missing and we are root), Aedes
// (a devDependency), and ../shared/perf's mqbench (optional: built with make into node_modules/.cache
// when its source is there). Each finder returns what it found, or undefined and says why on stderr.
import {spawnSync} from 'node:child_process'
import {accessSync, constants, existsSync, mkdirSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join, resolve} from 'node:path'

const say = (line) => process.stderr.write(`bench:compare: ${line}\n`)
/** Says why a peer is left out; returns undefined. */
function skip(line) {
  say(line)
  return undefined
}
const runs = (command, args = ['--help']) => !spawnSync(command, args, {stdio: 'ignore'}).error

function executable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The mosquitto binary: on PATH, in Debian's /usr/sbin, or installed now (apt-get, as root, unless install is false). */
export function findMosquitto({install = true} = {}) {
  const look = () => ['mosquitto', '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find((c) => (c.includes('/') ? executable(c) : runs(c, ['-h'])))
  const found = look()
  if (found) return found
  if (!install) return skip('mosquitto not found (PATH, /usr/sbin): skipped (apt-get install mosquitto, or drop --no-install)')
  if (process.getuid?.() !== 0 || !runs('apt-get', ['--version'])) {
    return skip('mosquitto not found and cannot be installed here (needs root and apt-get): skipped; install Debian\'s mosquitto package')
  }
  say('mosquitto not found: apt-get install -y --no-install-recommends mosquitto')
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'mosquitto'], {stdio: ['ignore', 2, 2], env})
  if (r.status !== 0) { // a fresh machine may have no package lists yet
    spawnSync('apt-get', ['update'], {stdio: ['ignore', 2, 2], env})
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'mosquitto'], {stdio: ['ignore', 2, 2], env})
  }
  return look() ?? skip(`installing mosquitto failed (apt-get exit ${r.status}): skipped`)
}

/** Whether Aedes (a devDependency, run by scripts/bench-aedes-server.mjs) can be loaded. */
export function hasAedes(root) {
  try {
    createRequire(join(root, 'package.json')).resolve('aedes')
    return true
  } catch {
    skip('aedes is not installed (npm install in the repository installs the devDependencies): skipped')
    return false
  }
}

/**
 * mqbench: `explicit` (--mqbench PATH) if given; else a built one, or one built now from the source in
 * $MIDGE_PERF_DIR or ../shared/perf beside the repository. Out-of-tree build (make -f with VPATH), since
 * the source folder may be read-only. undefined when there is none: it is optional.
 */
export function findMqbench(root, explicit) {
  if (explicit) return explicit
  const dirs = [process.env.MIDGE_PERF_DIR, resolve(root, '..', 'shared', 'perf')].filter(Boolean)
  const dir = dirs.find((d) => existsSync(join(d, 'mqbench.c')) && existsSync(join(d, 'Makefile')))
  if (!dir) return skip(`no mqbench source (${dirs.join(', ')}): its figures are left out (optional)`)
  const source = join(dir, 'mqbench.c')
  const fresh = (bin) => executable(bin) && statSync(bin).mtimeMs >= statSync(source).mtimeMs
  if (fresh(join(dir, 'mqbench'))) return join(dir, 'mqbench')
  const out = join(root, 'node_modules', '.cache', 'midge-mqbench')
  if (fresh(join(out, 'mqbench'))) return join(out, 'mqbench')
  if (!runs('make', ['--version'])) return skip('mqbench: make is not installed: its figures are left out (optional)')
  mkdirSync(out, {recursive: true})
  say(`building mqbench from ${dir} into ${out}`)
  const r = spawnSync('make', ['-s', '-C', out, '-f', join(dir, 'Makefile'), `VPATH=${dir}`, 'mqbench'], {stdio: ['ignore', 2, 2]})
  if (r.status !== 0 || !executable(join(out, 'mqbench'))) return skip(`building mqbench failed (make exit ${r.status}): its figures are left out (optional)`)
  return join(out, 'mqbench')
}
