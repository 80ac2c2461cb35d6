// The CLI's entry point, bundled by scripts/bundle.mjs with oclif and every command into dist/bundle
// (bin/run.js imports it from there), so that a command starts by loading a few files, not hundreds.
import {execute} from '@oclif/core'

/** Runs the command named by process.argv; `dir` locates package.json and the manifest (bin/run.js's URL). */
export async function run(dir: string): Promise<void> {
  await execute({dir})
}
