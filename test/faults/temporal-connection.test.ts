/**
 * Connecting to a secured Temporal: the TEMPORAL_* variables become connection
 * options (TLS with the certificates read from their files or given inline, an
 * API key, the namespace); a bad or missing certificate is one clear sentence;
 * and a worker and a client configured only from those variables run a real
 * workflow through a TLS-terminating front that demands the client
 * certificate (mTLS) and sees the API key on every call.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { CouplingSyncClient } from '../../client';
import { ConfigError, connectionOptions, temporalConfigFromEnv } from '../../worker/config';
import { createWorker } from '../../worker/create-worker';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping } from '../helpers/systems';
import { makeTestPki, SERVER_NAME, startTlsProxy, type TestPki } from './tls-proxy';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => {
  pki?.cleanup();
});

/** The environment of a worker on mTLS with an API key, as a team would set it. */
const securedEnv = (address: string, apiKey: string): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: address,
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_API_KEY: apiKey,
  TEMPORAL_TLS_CA: pki.file('ca.pem'),
  TEMPORAL_TLS_CERT: pki.file('client.pem'),
  TEMPORAL_TLS_KEY: pki.file('client.key'),
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
});

describe('configuration from the environment', () => {
  test('nothing set: plain text to localhost, default namespace and task queue', () => {
    expect(temporalConfigFromEnv({})).toEqual({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'coupling-sync',
      tls: undefined,
      apiKey: undefined,
    });
  });

  test('Temporal Cloud with an API key: TLS with the system roots, the key and the namespace', () => {
    const config = temporalConfigFromEnv({
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'sync.a1b2c',
      TEMPORAL_API_KEY: ' key-123456 ',
    });
    expect(config).toEqual({
      address: 'eu-west-1.aws.api.temporal.io:7233',
      namespace: 'sync.a1b2c',
      taskQueue: 'coupling-sync',
      apiKey: 'key-123456',
      tls: { serverNameOverride: undefined, serverRootCACertificate: undefined, clientCertPair: undefined },
    });
    expect(connectionOptions(config)).toEqual({ address: config.address, tls: config.tls, apiKey: 'key-123456' });
  });

  test('mTLS from files: the CA, the client certificate and key as read from disk, and the server name', () => {
    const config = temporalConfigFromEnv(securedEnv('temporal.internal:7233', 'k-abcdef'));
    expect(config.tls).toEqual({
      serverNameOverride: SERVER_NAME,
      serverRootCACertificate: readFileSync(pki.file('ca.pem')),
      clientCertPair: { crt: readFileSync(pki.file('client.pem')), key: readFileSync(pki.file('client.key')) },
    });
    expect(config.apiKey).toBe('k-abcdef');
  });

  test('mTLS from inline PEM (_DATA, as from a secret store), with "\\n" escapes', () => {
    const oneLine = (name: string): string => pki.read(name).toString('utf8').trim().replace(/\n/g, '\\n');
    const config = temporalConfigFromEnv({
      TEMPORAL_TLS_CA_DATA: oneLine('ca.pem'),
      TEMPORAL_TLS_CERT_DATA: oneLine('client.pem'),
      TEMPORAL_TLS_KEY_DATA: oneLine('client.key'),
    });
    const tls = typeof config.tls === 'object' && config.tls !== null ? config.tls : {};
    const text = (pem: Uint8Array | undefined): string =>
      Buffer.from(pem ?? [])
        .toString('utf8')
        .trim();
    expect(text(tls.clientCertPair?.crt)).toBe(text(pki.read('client.pem')));
    expect(text(tls.clientCertPair?.key)).toBe(text(pki.read('client.key')));
    expect(text(tls.serverRootCACertificate)).toBe(text(pki.read('ca.pem')));
  });

  test('TEMPORAL_TLS turns TLS on with nothing else, and off explicitly', () => {
    expect(temporalConfigFromEnv({ TEMPORAL_TLS: 'true' }).tls).toEqual({
      serverNameOverride: undefined,
      serverRootCACertificate: undefined,
      clientCertPair: undefined,
    });
    expect(temporalConfigFromEnv({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'key-behind-a-local-proxy' }).tls).toBeUndefined();
  });

  const bad: [string, () => NodeJS.ProcessEnv, RegExp][] = [
    [
      'a missing certificate file',
      () => ({ TEMPORAL_TLS_CERT: '/nope/client.pem', TEMPORAL_TLS_KEY: pki.file('client.key') }),
      /^TEMPORAL_TLS_CERT points to "\/nope\/client\.pem", which cannot be read; give the path of a PEM file\.$/,
    ],
    ['a missing CA file', () => ({ TEMPORAL_TLS_CA: '/nope/ca.pem' }), /^TEMPORAL_TLS_CA points to "\/nope\/ca\.pem", which cannot be read/],
    ['a directory instead of a file', () => ({ TEMPORAL_TLS_CA: pki.dir }), /^TEMPORAL_TLS_CA points to ".*", which cannot be read/],
    ['a file that is not PEM', () => ({ TEMPORAL_TLS_CA: pki.file('ca.cnf') }), /^TEMPORAL_TLS_CA \(".*ca\.cnf"\) holds no PEM certificate/],
    [
      'a key where the certificate belongs',
      () => ({ TEMPORAL_TLS_CERT: pki.file('client.key'), TEMPORAL_TLS_KEY: pki.file('client.key') }),
      /^TEMPORAL_TLS_CERT \(".*"\) holds no PEM certificate/,
    ],
    [
      'a certificate without its key',
      () => ({ TEMPORAL_TLS_CERT: pki.file('client.pem') }),
      /^Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY for mTLS, or neither\.$/,
    ],
    ['a key without its certificate', () => ({ TEMPORAL_TLS_KEY: pki.file('client.key') }), /^Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/],
    [
      'the key of another certificate',
      () => ({ TEMPORAL_TLS_CERT: pki.file('client.pem'), TEMPORAL_TLS_KEY: pki.file('server.key') }),
      /^TEMPORAL_TLS_KEY is not the private key of the certificate in TEMPORAL_TLS_CERT/,
    ],
    [
      'an expired client certificate',
      () => ({ TEMPORAL_TLS_CERT: pki.file('expired.pem'), TEMPORAL_TLS_KEY: pki.file('expired.key') }),
      /^TEMPORAL_TLS_CERT expired on 2020-02-01T00:00:00\.000Z; renew the certificate\.$/,
    ],
    [
      'a broken PEM block',
      () => ({ TEMPORAL_TLS_CA_DATA: '-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----' }),
      /^TEMPORAL_TLS_CA holds a PEM block that is not a readable X\.509 certificate\.$/,
    ],
    [
      'both a file and inline PEM',
      () => ({ TEMPORAL_TLS_CA: pki.file('ca.pem'), TEMPORAL_TLS_CA_DATA: 'x' }),
      /^Set TEMPORAL_TLS_CA \(a file path\) or TEMPORAL_TLS_CA_DATA \(the PEM itself\), not both\.$/,
    ],
    ['TEMPORAL_TLS neither true nor false', () => ({ TEMPORAL_TLS: 'maybe' }), /^TEMPORAL_TLS is "maybe"; use true or false\.$/],
    [
      'TLS off with certificates on',
      () => ({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: pki.file('ca.pem') }),
      /^TEMPORAL_TLS is false, but TLS certificates or a server name are set/,
    ],
  ];
  test.each(bad)('%s: one sentence naming the variable', (_what, env, message) => {
    let error: unknown;
    try {
      temporalConfigFromEnv(env());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
    expect(text).toMatch(/\.$/);
  });

  test('the worker started with an unreadable certificate prints that sentence and exits 1', async () => {
    const outcome = await run(TSX, ['worker/main.ts'], {
      env: { ...process.env, DATABASE_URL: 'sqlite::memory:', TEMPORAL_TLS_CERT: '/nope/client.pem', TEMPORAL_TLS_KEY: '/nope/client.key' },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? '' }),
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trim()).toBe('Error: TEMPORAL_TLS_CERT points to "/nope/client.pem", which cannot be read; give the path of a PEM file.');
  });
});

describe('a real mTLS connection through a TLS-terminating front', () => {
  beforeAll(() => {
    // Only these tests open native connections; the Runtime shuts down when a test closes its last one.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  });

  test('worker and client configured only from TEMPORAL_* run a workflow; every call carries the client certificate and the API key', async () => {
    const devServer = process.env.TEMPORAL_TEST_ADDRESS;
    const bundlePath = process.env.TEMPORAL_TEST_BUNDLE;
    if (!devServer || !bundlePath) throw new Error('TEMPORAL_TEST_ADDRESS / TEMPORAL_TEST_BUNDLE are not set: run the tests through jest.');
    const proxy = await startTlsProxy({ backend: devServer, key: pki.read('server.key'), cert: pki.read('server.pem'), ca: pki.read('ca.pem') });
    const apiKey = `ak-${randomBytes(12).toString('hex')}`;
    const config = temporalConfigFromEnv(securedEnv(proxy.address, apiKey));
    const { store, cleanup } = await sqliteDialect.open();
    const sys = await openTestSystems();
    const native = await NativeConnection.connect(connectionOptions(config));
    const connection = await Connection.connect(connectionOptions(config));
    try {
      await store.saveMapping(testMapping());
      await sys.local('customer').insert(Array.from({ length: 5 }, (_, i) => customer(i)));
      const taskQueue = `mtls-${randomUUID()}`;
      const worker = await createWorker({
        connection: native,
        namespace: config.namespace,
        store,
        systems: sys.systems,
        taskQueue,
        workflowBundle: { codePath: bundlePath },
      });
      const sync = new CouplingSyncClient({ client: new Client({ connection, namespace: config.namespace }), taskQueue });
      const result = await worker.runUntil(() => sync.bulkSync({ mapping: 'CUSTOMER' }));
      expect(result.jobs[0].counters.inserted).toBe(5);
      expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 5 });

      const paths = new Set(proxy.calls.map((c) => c.path.split('/').pop()));
      // The worker's polls and the client's start both went through the front.
      expect([...paths]).toEqual(
        expect.arrayContaining(['PollWorkflowTaskQueue', 'PollActivityTaskQueue', 'StartWorkflowExecution', 'GetWorkflowExecutionHistory']),
      );
      expect(proxy.calls.filter((c) => c.clientCertSubject !== 'CN=coupling-sync-worker')).toEqual([]);
      expect(proxy.calls.filter((c) => c.authorization !== `Bearer ${apiKey}`)).toEqual([]);
    } finally {
      await connection.close();
      await native.close();
      await sys.close();
      await cleanup();
      await proxy.close();
    }
  });

  test('without the client certificate, with one from another CA, or without our CA, the connection is refused', async () => {
    const devServer = process.env.TEMPORAL_TEST_ADDRESS as string;
    const proxy = await startTlsProxy({ backend: devServer, key: pki.read('server.key'), cert: pki.read('server.pem'), ca: pki.read('ca.pem') });
    try {
      const env = securedEnv(proxy.address, 'ak-refused');
      const attempts: [string, NodeJS.ProcessEnv][] = [
        ['no client certificate', { ...env, TEMPORAL_TLS_CERT: undefined, TEMPORAL_TLS_KEY: undefined }],
        ['a client certificate from another CA', { ...env, TEMPORAL_TLS_CERT: pki.file('stranger.pem'), TEMPORAL_TLS_KEY: pki.file('stranger.key') }],
        ['the system roots instead of our CA', { ...env, TEMPORAL_TLS_CA: undefined }],
      ];
      for (const [what, attempt] of attempts) {
        const outcome = await NativeConnection.connect(connectionOptions(temporalConfigFromEnv(attempt))).then(
          async (c) => {
            await c.close();
            return 'connected';
          },
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
        expect({ what, outcome }).toEqual({ what, outcome: expect.not.stringMatching(/^connected$/) });
      }
      // The first two reached the front and were turned away in the handshake.
      expect(proxy.rejectedHandshakes).toBeGreaterThanOrEqual(2);
      expect(proxy.calls).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
