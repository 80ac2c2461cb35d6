#!/usr/bin/env node
// The CLI is one bundled file (npm run build), loaded with V8's code cache for a fast start. This file
// and its loader are CommonJS (bin/package.json): Node then starts a command without its ES module
// loader, which only a run that needs an ES module (oclif's help plugin) sets up.
const {join} = require('node:path')
const {loadBundle} = require('../dist/bundle/load.cjs')

loadBundle(join(__dirname, '..', 'dist', 'bundle', 'midge.cjs')).run(__filename)
