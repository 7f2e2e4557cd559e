#!/usr/bin/env node
// From the package, which ships no sources: the compiled CLI (dist/).
// From a clone: one bundled file built from the sources by esbuild (a dev
// dependency) into .cache/cli, on install (npm's prepare) or on the first call
// after a source changed, and then run as plain JavaScript. Compiling the
// TypeScript on every call (tsx) cost 1 to 4 s per command.
'use strict';
const { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const entry = path.join(root, 'cli', 'main.ts');
const out = path.join(root, '.cache', 'cli', 'coupling-sync.js');
const inputsFile = `${out}.inputs.json`;

/** Whether any source the bundle was built from (listed by esbuild when it built it) changed since. */
function stale() {
  let built;
  let inputs;
  try {
    built = statSync(out).mtimeMs;
    inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
  } catch {
    return true;
  }
  for (const file of inputs) {
    try {
      if (statSync(path.join(root, file)).mtimeMs > built) return true;
    } catch {
      return true;
    }
  }
  return false;
}

function build() {
  const esbuild = require('esbuild');
  const temp = `${out}.${process.pid}.tmp`;
  const result = esbuild.buildSync({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Packages load from node_modules as they are: native ones (sqlite3) cannot be bundled.
    packages: 'external',
    sourcemap: 'inline',
    metafile: true,
    outfile: temp,
    logLevel: 'error',
  });
  // The bundle requires packages from .cache/cli, which Node resolves up to the clone's node_modules.
  writeFileSync(`${inputsFile}.${process.pid}.tmp`, JSON.stringify([...Object.keys(result.metafile.inputs), 'package.json']));
  // Renamed into place, so a second call building at the same time never runs half a file.
  renameSync(`${inputsFile}.${process.pid}.tmp`, inputsFile);
  renameSync(temp, out);
}

if (existsSync(entry)) {
  mkdirSync(path.dirname(out), { recursive: true });
  if (process.argv[2] === '--build-only') {
    build();
  } else {
    if (stale()) build();
    require(out);
  }
} else {
  require('../dist/cli/main.js');
}
