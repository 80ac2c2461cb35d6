// Writes oclif.manifest.json from the built commands (what `oclif manifest` does), so that the CLI
// starts without scanning and importing every command. Generated on every build; never edit by hand.
import {Plugin} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
await plugin.load()
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), JSON.stringify(plugin.manifest) + '\n')
