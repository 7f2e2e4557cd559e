/** What a newcomer sees when something is missing: one clear sentence, no stack trace. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cachedCliPath, cliUnavailableMessage, resolveTemporalCli } from '../../worker/temporal-cli';
import { knexConfigFromUrl } from '../../store/database-url';
import { temporalConfigFromEnv } from '../../worker/config';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return fn().finally(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

describe('Temporal CLI resolution', () => {
  test('TEMPORAL_CLI_PATH wins, and a bad one is named', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-'));
    const fake = path.join(dir, 'temporal');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    await withEnv({ TEMPORAL_CLI_PATH: fake }, async () => {
      expect(await resolveTemporalCli()).toMatchObject({ source: 'TEMPORAL_CLI_PATH', path: fake, executable: { type: 'existing-path', path: fake } });
    });
    await withEnv({ TEMPORAL_CLI_PATH: path.join(dir, 'missing') }, async () => {
      await expect(resolveTemporalCli()).rejects.toThrow(/TEMPORAL_CLI_PATH is set to ".*missing", which is not an executable file/);
    });
  });

  test('the cached build is found without building again', async () => {
    await withEnv({ TEMPORAL_CLI_PATH: undefined }, async () => {
      const lines: string[] = [];
      const resolved = await resolveTemporalCli({ log: (l) => lines.push(l), allowBuild: false });
      expect(resolved.source).toBe('cache');
      expect(resolved.path).toBe(cachedCliPath());
      expect(lines.join('\n')).not.toMatch(/Building/);
    });
  });

  test('with no binary and no Go, it falls back to the SDK download and says how to fix a failure', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'nocache-'));
    await withEnv({ TEMPORAL_CLI_PATH: undefined, COUPLING_SYNC_CACHE_DIR: empty, PATH: '/nonexistent' }, async () => {
      const lines: string[] = [];
      const resolved = await resolveTemporalCli({ log: (l) => lines.push(l), allowBuild: false });
      expect(resolved.source).toBe('sdk download');
      expect(resolved.executable.type).toBe('cached-download');
      expect(lines[0]).toMatch(/No Temporal CLI found and no Go toolchain/);
    });
    expect(cliUnavailableMessage(new Error('getaddrinfo ENOTFOUND temporal.download\n stack'))).toMatch(
      /^The Temporal CLI is not available: .*install Go from https:\/\/go.dev\/dl or set TEMPORAL_CLI_PATH.*\(getaddrinfo ENOTFOUND temporal.download\)\.$/,
    );
  });
});

describe('configuration errors', () => {
  test('DATABASE_URL: sqlite and postgres are accepted, anything else is refused in one sentence', () => {
    expect(knexConfigFromUrl({ databaseUrl: 'sqlite:/tmp/x.sqlite' }).client).toBe('sqlite3');
    expect(knexConfigFromUrl({ databaseUrl: 'postgres://u@h/db' }).client).toBe('pg');
    expect(knexConfigFromUrl({}).client).toBe('sqlite3');
    expect(() => knexConfigFromUrl({ databaseUrl: 'mysql://root@127.0.0.1/test' })).toThrow(
      'DATABASE_URL scheme "mysql" is not supported: use sqlite:<file path> (the default, data/coupling-sync.sqlite) or postgres://user@host:5432/database.',
    );
  });

  test('TLS and API key come from the environment', () => {
    expect(temporalConfigFromEnv({}).tls).toBeUndefined();
    const cloud = temporalConfigFromEnv({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'k' });
    expect(cloud).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', apiKey: 'k' });
    expect(cloud.tls).toBeDefined();
    expect(() => temporalConfigFromEnv({ TEMPORAL_TLS_CERT: '/nope.pem' })).toThrow(/TEMPORAL_TLS_CERT points to "\/nope.pem", which cannot be read/);
  });

  test('the worker, started with a bad DATABASE_URL or an unreachable Temporal, prints one sentence and exits 1', async () => {
    const attempt = async (env: Record<string, string>): Promise<{ code: number; stderr: string }> => {
      try {
        await run(TSX, ['worker/main.ts'], { env: { ...process.env, ...env }, timeout: 60_000 });
        return { code: 0, stderr: '' };
      } catch (error) {
        const e = error as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
      }
    };
    const badUrl = await attempt({ DATABASE_URL: 'mongodb://localhost/x' });
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr.trim()).toMatch(/^Error: DATABASE_URL scheme "mongodb" is not supported: .*\.$/);
    expect(badUrl.stderr).not.toMatch(/\n\s+at /);

    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'worker-'));
    const unreachable = await attempt({
      DATABASE_URL: `sqlite:${path.join(dataDir, 'store.sqlite')}`,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      COUPLING_SYNC_DATA_DIR: dataDir,
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toBe(
      'Error: Cannot reach Temporal at 127.0.0.1:1: start a server (npm start runs a dev server) or set TEMPORAL_ADDRESS to a reachable one.',
    );
  });
});
