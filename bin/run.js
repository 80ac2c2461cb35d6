#!/usr/bin/env node
// The CLI is bundled (npm run build) and loaded with V8's code cache for a fast start: the client tools'
// bundle for pub, sub, rr, ctrl and passwd, else the whole CLI's. This file and its loader are CommonJS
// (bin/package.json): Node then starts a command without its ES module loader, which only a run that
// needs an ES module (oclif's help plugin) sets up.
const {join} = require('node:path')
const {loadCli} = require('../dist/bundle/load.cjs')

loadCli(join(__dirname, '..', 'dist', 'bundle')).run(__filename)
