#!/usr/bin/env -S node --import tsx
// Development: runs the commands from src/commands through tsx, no build needed (bin/run.js runs the
// bundle that `npm run build` makes).
import {execute} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif.commands = './src/commands'
await execute({development: true, loadOptions: {root, pjson}})
