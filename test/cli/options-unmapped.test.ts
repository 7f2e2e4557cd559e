/**
 * `coupling-sync options unmapped [mapping]`: the option values fields set to
 * `collect` left out, as a real process reads them from a SQLite store file;
 * a value the mapping has a pair for since is no longer listed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../store/store';
import { testMapping } from '../helpers/systems';

let store: Store;
let databaseUrl: string;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-options-'));
  databaseUrl = `sqlite:${path.join(dir, 'store.sqlite')}`;
  store = Store.open({ databaseUrl });
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.resolve('bin/coupling-sync.js'), ...args],
      { env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const withPairs = (pairs: { local: string; integration: number }[]) =>
  testMapping({
    direction: 'Bidirectional',
    fields: [
      { localField: 'name', integrationField: 'name' },
      { localField: 'payment_terms_code', integrationField: 'paymenttermscode', optionMapping: { pairs, unmapped: 'collect' } },
    ],
  });

test('lists what is still unmapped, per mapping, as JSON and as lines; a value mapped since is left out', async () => {
  expect(await cli(['options', 'unmapped'])).toMatchObject({ code: 0, stdout: 'No unmapped option values.\n' });

  await store.saveMapping(withPairs([{ local: 'NET30', integration: 100000001 }]));
  const local = (value: unknown) => ({ sourceSide: 'local' as const, sourceField: 'payment_terms_code', destinationField: 'paymenttermscode', value });
  await store.noteUnmappedOptions('CUSTOMER', 'job-1', [local('NET45'), local('NET45'), local('NET60')]);
  await store.noteUnmappedOptions('CUSTOMER', 'job-2', [
    local('NET45'),
    { sourceSide: 'integration', sourceField: 'paymenttermscode', destinationField: 'payment_terms_code', value: 100000009 },
  ]);
  // NET60 gets its pair.
  await store.saveMapping(
    withPairs([
      { local: 'NET30', integration: 100000001 },
      { local: 'NET60', integration: 100000002 },
    ]),
  );

  const json = await cli(['--json', 'options', 'unmapped', 'CUSTOMER']);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject([
    { mappingName: 'CUSTOMER', side: 'integration', field: 'paymenttermscode', value: 100000009, destinationField: 'payment_terms_code', occurrences: 1 },
    { mappingName: 'CUSTOMER', side: 'local', field: 'payment_terms_code', value: 'NET45', occurrences: 3, firstJobId: 'job-1', lastJobId: 'job-2' },
  ]);

  const human = await cli(['options', 'unmapped']);
  expect(human.code).toBe(0);
  const lines = human.stdout.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^CUSTOMER {2}integration\.paymenttermscode 100000009 -> payment_terms_code {2}seen 1 time {2}first job-2 .* last job-2 /);
  expect(lines[1]).toMatch(/^CUSTOMER {2}local\.payment_terms_code "NET45" -> paymenttermscode {2}seen 3 times {2}first job-1 .* last job-2 /);

  const unknown = await cli(['options', 'unmapped', 'NOPE']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr.trim()).toBe('Error: Field "mapping": no integration table mapping named "NOPE"; known mappings: CUSTOMER.');
});
