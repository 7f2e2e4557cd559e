#!/usr/bin/env node
// From a clone, the TypeScript source through tsx (a dev dependency), so `npx coupling-sync` needs no build;
// from the package, which ships no sources, the compiled CLI.
const { existsSync } = require('node:fs');
const path = require('node:path');

if (existsSync(path.join(__dirname, '..', 'cli', 'main.ts'))) {
  require('tsx/cjs');
  require('../cli/main.ts');
} else {
  require('../dist/cli/main.js');
}
