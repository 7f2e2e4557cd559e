/**
 * The shared set-up (one dev server, one workflow bundle), plus a folder for
 * this run's fault results and a private copy of the bundle: worker processes
 * start all through the run, and another Jest run in the same checkout rewrites
 * the shared bundle file, which a worker starting at that moment would read half written.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import globalSetup from '../global-setup';

/** A complete bundle ends with its inline source map, which must decode as JSON. */
function complete(file: string): boolean {
  const code = readFileSync(file, 'utf8');
  const comment = code.lastIndexOf('//# sourceMappingURL=data:');
  const at = comment < 0 ? -1 : code.indexOf('base64,', comment);
  if (at < 0) return false;
  try {
    JSON.parse(Buffer.from(code.slice(at + 'base64,'.length).trimEnd(), 'base64').toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export default async function faultSetup(): Promise<void> {
  const dir = path.resolve('.cache', 'fault-results');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.env.FAULT_RESULTS_DIR = dir;
  process.env.FAULT_SUITE_STARTED = String(Date.now());
  await globalSetup();
  const shared = process.env.TEMPORAL_TEST_BUNDLE as string;
  const own = path.join(path.dirname(shared), `fault-workflow-bundle-${process.pid}.js`);
  for (let attempt = 0; ; attempt++) {
    copyFileSync(shared, own);
    if (complete(own)) break;
    if (attempt >= 50) throw new Error(`The workflow bundle ${shared} stayed incomplete (another run keeps rewriting it).`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.env.TEMPORAL_TEST_BUNDLE = own;
}
