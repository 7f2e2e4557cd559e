/**
 * Secrets stay secret: a connector whose failures quote a database URL with
 * its password, a client secret, a bearer token, an API key and a secret with
 * no label at all; the error rows, the workflow failure messages, the job rows,
 * the histories and the worker's own log lines must show them redacted.
 *
 * This file installs its own Temporal Runtime (to capture the worker's log
 * lines), so it connects by itself instead of through the shared helper.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Runtime, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';
import { CouplingSyncClient } from '../../client';
import { creationKey } from '../../domain/record-key';
import { redact, registerSecret, registerSecretsFromEnv } from '../../support/redact';
import { describeFatal } from '../../support/fatal';
import { AesGcmPayloadCodec } from '../../codec/aes-gcm-codec';
import { createWorker } from '../../worker/create-worker';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping } from '../helpers/systems';
import { closedRunsOn, findings, historyText } from './history-text';
import { credentialValues, fakeCredentials, LeakyConnector } from './leaky-connector';

/** The worker's log lines as a log shipper would store them: message and metadata, errors with message, stack and cause. */
const logLines: string[] = [];

function render(value: unknown, depth = 0): unknown {
  if (depth > 6) return '...';
  if (value instanceof Error) {
    const own = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, depth + 1)]));
    return { ...own, name: value.name, message: value.message, stack: value.stack, cause: render((value as Error & { cause?: unknown }).cause, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((v) => render(v, depth + 1));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, depth + 1)]));
  return value;
}

const capture: Logger = {
  log(level: LogLevel, message: string, meta?: LogMetadata) {
    logLines.push(`${level} ${message} ${JSON.stringify(render(meta ?? {}), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  },
  trace(message, meta) {
    this.log('TRACE', message, meta);
  },
  debug(message, meta) {
    this.log('DEBUG', message, meta);
  },
  info(message, meta) {
    this.log('INFO', message, meta);
  },
  warn(message, meta) {
    this.log('WARN', message, meta);
  },
  error(message, meta) {
    this.log('ERROR', message, meta);
  },
};

describe('redact()', () => {
  const cases: [string, string, string][] = [
    ['password in a database URL', 'connect ECONNREFUSED postgres://sync:Hunter2-pw@db:5432/crm', 'Hunter2-pw'],
    ['password holding "@" in a URL', 'cannot open mysql://app:p@ss@w0rd@db/crm', 'ss@w0rd'],
    ['URL without a user name', 'redis://:only-a-password@cache:6379', 'only-a-password'],
    ['client_secret in a form body', 'POST /token client_id=app&client_secret=cs~9aZq81&grant_type=client_credentials', 'cs~9aZq81'],
    ['clientSecret in JSON', '{"clientId":"app","clientSecret":"two words secret"}', 'two words secret'],
    ['bearer token header', 'Authorization: Bearer abc.def-ghi_jkl', 'abc.def-ghi_jkl'],
    ['basic auth header', 'authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['unlabelled JWT', 'token expired: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-123', 'eyJzdWIiOiIxIn0'],
    ['x-api-key header', 'headers {"x-api-key": "ak_live_7788"}', 'ak_live_7788'],
    ['apiKey query parameter', 'GET /v1/x?apiKey=ak_query_1&page=2', 'ak_query_1'],
    ['Azure subscription key', 'Ocp-Apim-Subscription-Key: 0123456789abcdef', '0123456789abcdef'],
    ['libpq DSN password', 'host=db user=sync password=dsn-secret dbname=crm', 'dsn-secret'],
    ['access_token in JSON', '{"access_token":"at-123456","expires_in":3599}', 'at-123456'],
    ['refresh token camelCase', 'refreshToken=rt-abcdef', 'rt-abcdef'],
    ['SAS signature', 'https://acct.blob.core.windows.net/c/b?sv=2024&sig=SAS%2Fsig%3D', 'SAS%2Fsig%3D'],
    ['PEM private key', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----', 'MIIEvQIBADANBg'],
  ];
  test.each(cases)('%s', (_what, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  test('keeps what is not a secret: ids, hosts, counts, messages', () => {
    const text = 'record C17 failed at https://crm.example.com:8443/api/data/v9.2/accounts(42) after 3 attempts: 412 Precondition Failed';
    expect(redact(text)).toBe(text);
    expect(redact('tokens: 5, passwords rotated')).toBe('tokens: 5, passwords rotated');
  });

  test('a registered secret is masked even with no label around it', () => {
    const secret = `raw-${randomBytes(6).toString('hex')}`;
    registerSecret(secret);
    expect(redact(`the system said: ${secret} is not valid`)).toBe('the system said: [redacted] is not valid');
  });

  test('secrets from the environment: generated-looking values are masked anywhere, plain words are not', () => {
    const apiKey = `Ak${randomBytes(8).toString('hex')}`;
    const urlPassword = `Pw-${randomBytes(6).toString('hex')}`;
    registerSecretsFromEnv({
      CRM_API_KEY: apiKey,
      POSTGRES_PASSWORD: 'postgres',
      FEATURE_TOKEN: 'true',
      STORE_URL: `postgres://sync:${urlPassword}@db:5432/crm`,
      OTHER_URL: 'postgres://sync:postgres@db/x',
      PASSWORD_FILE: '/run/secrets/Pw-file-9',
    });
    expect(redact(`echo ${apiKey} and ${urlPassword}`)).toBe('echo [redacted] and [redacted]');
    expect(redact('postgres is up; flag true; /run/secrets/Pw-file-9')).toBe('postgres is up; flag true; /run/secrets/Pw-file-9');
  });

  test('payload codec keys are masked: from the environment, once a codec holds them, in any of their encodings', () => {
    const [k1, k2, k3] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    registerSecretsFromEnv({
      COUPLING_SYNC_CODEC_KEY: k1.toString('base64'),
      COUPLING_SYNC_CODEC_PREVIOUS_KEYS: `${k2.toString('hex')}, ${k3.toString('base64url')}`,
    });
    expect(redact(`keys ${k1.toString('base64')} / ${k2.toString('hex')} / ${k3.toString('base64url')}`)).toBe('keys [redacted] / [redacted] / [redacted]');
    const [k4, k5] = [randomBytes(32), randomBytes(32)];
    AesGcmPayloadCodec.fromEnv({ COUPLING_SYNC_CODEC_KEY: k4.toString('hex'), COUPLING_SYNC_CODEC_PREVIOUS_KEYS: k5.toString('base64') });
    for (const key of [k4, k5]) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) expect(redact(`key ${key.toString(encoding)}`)).toBe('key [redacted]');
    }
  });

  test('entry points print a failure as one redacted sentence', () => {
    expect(
      describeFatal(new Error('password authentication failed for postgres://sync:Fatal-pw1@db/crm'), { databaseUrl: 'postgres://sync:Fatal-pw1@db/crm' }),
    ).not.toContain('Fatal-pw1');
  });
});

describe('secrets in failures of real runs', () => {
  let connection: Connection;
  let native: NativeConnection;
  let client: Client;
  beforeAll(async () => {
    const address = process.env.TEMPORAL_TEST_ADDRESS;
    if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is not set: run the tests through jest (global setup starts the dev server).');
    // Forwarded logs hold the event loop open until the Runtime shuts down, which it does when its
    // last native connection closes (or fails to open): installed here, not at module top level,
    // so a run whose name filter skips this block never has one.
    Runtime.install({ logger: capture, telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } } });
    native = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    client = new Client({ connection });
  });
  afterAll(async () => {
    await connection?.close();
    await native?.close(); // the Runtime's last native object: it shuts down with it
  });

  test('error rows, failure messages, job rows, histories and worker logs show every secret redacted', async () => {
    const credentials = fakeCredentials();
    // A secret known only from the worker's environment, quoted by the system with no label around it.
    const envSecret = `env-${randomBytes(9).toString('hex')}`;
    process.env.CRM_CLIENT_SECRET = envSecret;
    const secrets = [...credentialValues(credentials), envSecret];
    const { store, cleanup } = await sqliteDialect.open();
    const sys = await openTestSystems();
    const taskQueue = `secrets-${randomUUID()}`;
    try {
      await store.saveMapping(testMapping());
      await sys.local('customer').insert(Array.from({ length: 6 }, (_, i) => customer(i)));
      const failKeys = new Set([creationKey('CUSTOMER', 'local', 'C1'), creationKey('CUSTOMER', 'local', 'C2')]);
      const leaky = new LeakyConnector(sys.systems.integration, credentials, { failKeys, kind: 'permanent', extra: `(client ${envSecret})` });
      // The source side: planning reads it, so that is where "cannot connect" hurts.
      const leakyLocal = new LeakyConnector(sys.systems.local, credentials, { extra: `(client ${envSecret})` });
      const bundlePath = process.env.TEMPORAL_TEST_BUNDLE;
      if (!bundlePath) throw new Error('TEMPORAL_TEST_BUNDLE is not set: run the tests through jest.');
      const worker = await createWorker({
        connection: native,
        store,
        systems: { local: leakyLocal, integration: leaky },
        taskQueue,
        workflowBundle: { codePath: bundlePath },
      });
      const sync = new CouplingSyncClient({ client, taskQueue, store });
      const failureMessages: string[] = [];
      let runs = 0;
      await worker.runUntil(async () => {
        const retry = { maximumAttempts: 2, initialIntervalMs: 10 };
        // Permanent write failures: error rows at once.
        runs++;
        const first = await sync.bulkSync({ mapping: 'CUSTOMER', retry });
        expect(first.jobs[0].counters).toMatchObject({ inserted: 4, failed: 2 });
        // Transient ones: retried (the failure of each attempt is logged and kept in the history), then error rows.
        leaky.faults.kind = 'transient';
        runs++;
        const second = await sync.bulkSync({ mapping: 'CUSTOMER', fullSync: true, retry });
        expect(second.jobs[0].counters).toMatchObject({ failed: 2 });
        // The driver cannot connect at all: the run fails, and says why.
        leakyLocal.faults.scanThrows = 1000;
        runs++;
        const error = await sync.bulkSync({ mapping: 'CUSTOMER', retry }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(WorkflowFailedError);
        for (let e: unknown = error; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
          failureMessages.push(e.message, e.stack ?? '');
        }
        expect(leakyLocal.thrown.scan).toBeGreaterThan(1);
      });

      const errors = await store.listErrors({ mappingName: 'CUSTOMER' });
      expect(errors.length).toBe(4);
      const rowTexts = errors.flatMap((e) => [e.message, e.fullMessage ?? '']);
      const jobTexts = (await store.listJobs({ mappingName: 'CUSTOMER' })).map((j) => j.message ?? '');
      const histories = await Promise.all((await closedRunsOn(client, taskQueue, runs)).map((r) => historyText(client, r.workflowId, r.runId)));

      const leaksIn = (texts: string[]): string[] => texts.filter((t) => secrets.some((s) => t.includes(s)) || t.includes(credentials.databaseUrl));
      expect(leaksIn(rowTexts)).toEqual([]);
      expect(leaksIn(jobTexts)).toEqual([]);
      expect(leaksIn(failureMessages)).toEqual([]);
      expect(findings(histories, secrets)).toEqual([]);
      expect(leaksIn(logLines)).toEqual([]);

      // Redacted, not dropped: the rows, the failure and the logs still say what went wrong, and where.
      for (const e of errors)
        expect(e.message).toMatch(
          /failed at postgres:\/\/sync_user:\[redacted\]@crm-db\.internal:5432\/crm.*client_secret=\[redacted\].*Bearer \[redacted\].*\[redacted\]/,
        );
      expect(errors.every((e) => e.fullMessage?.includes('[redacted]'))).toBe(true);
      expect(failureMessages.join('\n')).toMatch(/connect failed at postgres:\/\/sync_user:\[redacted\]@crm-db/);
      expect(logLines.filter((l) => l.includes('Activity failed')).length).toBeGreaterThan(0);
      expect(logLines.some((l) => l.includes('Activity failed') && l.includes('[redacted]'))).toBe(true);
    } finally {
      delete process.env.CRM_CLIENT_SECRET;
      await sys.close();
      await cleanup();
    }
  });
});
