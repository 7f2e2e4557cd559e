/**
 * Compiles bench/worker-process.ts and the library it runs to JavaScript
 * under node_modules/.cache, once per change of the sources, and returns the
 * compiled entry point. esbuild transpiles file by file (no bundle, no type
 * check, which `npm test` does): about a second, where tsc took 16. The
 * benchmark runs its measured worker from there with plain node: under tsx
 * the process also holds the compiler and every module's transformed source
 * with its source map (about 30 MB more resident memory when idle,
 * measured), which a deployed worker does not.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { buildSync } from 'esbuild';
import path from 'node:path';
import { log } from './stats';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'node_modules', '.cache', 'coupling-sync-bench-worker');
const STAMP = path.join(OUT, '.sources-mtime');
const SOURCE_DIRS = ['support', 'codec', 'common', 'store', 'connectors', 'domain', 'activities', 'workflows', 'worker', 'client', 'plugin', 'bench'];

/** Every TypeScript source the worker process may load. */
function sources(): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'results') visit(full);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(full);
    }
  };
  for (const dir of SOURCE_DIRS) visit(path.join(ROOT, dir));
  return found;
}

export function compiledWorkerProcess(): string {
  const entry = path.join(OUT, 'bench', 'worker-process.js');
  const files = sources();
  const newest = Math.max(...files.map((f) => statSync(f).mtimeMs));
  if (existsSync(entry) && existsSync(STAMP) && Number(readFileSync(STAMP, 'utf8')) >= newest) return entry;
  log('compiling the worker process (esbuild, file by file)');
  buildSync({ entryPoints: files, outdir: OUT, outbase: ROOT, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' });
  writeFileSync(STAMP, String(newest));
  return entry;
}
