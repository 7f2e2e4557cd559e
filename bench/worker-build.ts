/**
 * Compiles bench/worker-process.ts and the library it runs to JavaScript
 * (bench/tsconfig.worker.json) under node_modules/.cache, once per change of
 * the sources, and returns the compiled entry point. The benchmark runs its
 * measured worker from there with plain node: under tsx the process also
 * holds the compiler and every module's transformed source with its source
 * map (about 30 MB more resident memory when idle, measured), which a
 * deployed worker does not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { log } from './stats';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'node_modules', '.cache', 'coupling-sync-bench-worker');
const STAMP = path.join(OUT, '.sources-mtime');
const SOURCE_DIRS = ['support', 'codec', 'common', 'store', 'connectors', 'domain', 'activities', 'workflows', 'worker', 'client', 'plugin', 'bench'];

/** The newest modification time of any TypeScript source the build reads (and of the configs). */
function newestSource(): number {
  let newest = Math.max(...['tsconfig.json', 'tsconfig.build.json', 'bench/tsconfig.worker.json'].map((f) => statSync(path.join(ROOT, f)).mtimeMs));
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'results') visit(full);
      } else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) visit(path.join(ROOT, dir));
  return newest;
}

export function compiledWorkerProcess(): string {
  const entry = path.join(OUT, 'bench', 'worker-process.js');
  const newest = newestSource();
  if (existsSync(entry) && existsSync(STAMP) && Number(readFileSync(STAMP, 'utf8')) >= newest) return entry;
  log('compiling the worker process (bench/tsconfig.worker.json)');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'bench', 'tsconfig.worker.json'), '--outDir', OUT], {
    stdio: 'inherit',
  });
  writeFileSync(STAMP, String(newest));
  return entry;
}
