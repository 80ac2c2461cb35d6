// Writes oclif.manifest.json from the built commands (what `oclif manifest` does), so that the CLI
// starts without scanning and importing every command. Generated on every build; never edit by hand.
import {Plugin} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
await plugin.load()
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), JSON.stringify(plugin.manifest) + '\n')
// The manifests of client.cjs's and broker.cjs's commands alone, which a run of one of them reads instead
// (src/cli/common/main.ts): oclif keeps what it read for as long as the process runs (#23)
const {BROKER_COMMANDS, CLIENT_COMMANDS} = await import(new URL('../dist/cli/common/compile-cache.js', import.meta.url).href)
for (const [name, ids] of [['client', CLIENT_COMMANDS], ['broker', BROKER_COMMANDS]]) {
  const commands = Object.fromEntries(Object.entries(plugin.manifest.commands).filter(([id]) => ids.includes(id)))
  writeFileSync(new URL(`../dist/bundle/${name}.manifest.json`, import.meta.url), JSON.stringify({...plugin.manifest, commands}) + '\n')
}
