#!/usr/bin/env node
// The CLI is one bundled file (npm run build), loaded with V8's code cache for a fast start.
import {loadBundle} from '../dist/cli/common/compile-cache.js'

const {run} = loadBundle(new URL('../dist/bundle/midge.cjs', import.meta.url))
await run(import.meta.url)
