#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx coupling-sync` works straight from a clone.
require('tsx/cjs');
require('../cli/main.ts');
