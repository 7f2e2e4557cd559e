/**
 * The optional AES-256-GCM payload codec: keys, round trips, tampering and
 * rotation; a real run with the codec on client and worker completes while
 * every payload the server stores is ciphertext; and the codec server decodes
 * those payloads for the Web UI (CORS for the UI's origin, bearer token).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  codecDataConverterFromEnv,
  codecKeyId,
  CodecKeyError,
  ENCRYPTED_ENCODING,
  parseCodecKey,
  PayloadDecryptionError,
} from '../../codec/aes-gcm-codec';
import { startCodecServer } from '../../codec/codec-server';
import { CouplingSyncClient } from '../../client';
import { createWorker } from '../../worker/create-worker';
import { sqliteDialect } from '../helpers/stores';
import { customer, openTestSystems, testMapping } from '../helpers/systems';
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';

const key = (): Buffer => randomBytes(32);
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');

describe('AesGcmPayloadCodec', () => {
  test('keys: 64 hex digits or base64 of 32 bytes; anything else is one sentence naming the variable', () => {
    const k = key();
    expect(parseCodecKey(k.toString('hex'))).toEqual(k);
    expect(parseCodecKey(k.toString('base64'))).toEqual(k);
    expect(parseCodecKey(k.toString('base64url'))).toEqual(k);
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), `${k.toString('hex')}00`, 'not base64 at all!']) {
      expect(() => parseCodecKey(bad)).toThrow(CodecKeyError);
      expect(() => parseCodecKey(bad)).toThrow(/^COUPLING_SYNC_CODEC_KEY must be a 32-byte key, as 64 hex digits or base64/);
    }
    expect(AesGcmPayloadCodec.fromEnv({})).toBeNull();
    expect(codecDataConverterFromEnv({})).toBeUndefined();
    expect(() => AesGcmPayloadCodec.fromEnv({ COUPLING_SYNC_CODEC_KEY: k.toString('hex'), COUPLING_SYNC_CODEC_PREVIOUS_KEYS: 'x' })).toThrow(
      /^COUPLING_SYNC_CODEC_PREVIOUS_KEYS must be/,
    );
  });

  test('round trip keeps data and metadata; the ciphertext reads as nothing; the same input never encrypts the same way twice', async () => {
    const codec = new AesGcmPayloadCodec({ key: key() });
    const original = json({ mapping: 'CUSTOMER', name: 'SECRET-VALUE-roundtrip' });
    const [a] = await codec.encode([original]);
    const [b] = await codec.encode([original]);
    expect(text(a.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(a.metadata?.['encryption-key-id'])).toBe(codec.keyId);
    expect(text(a.metadata?.['encryption-cipher'])).toBe('AES-256-GCM');
    expect(text(a.data)).not.toContain('SECRET-VALUE');
    expect(Buffer.from(a.data ?? [])).not.toEqual(Buffer.from(b.data ?? []));
    const [back] = await codec.decode([a]);
    expect(text(back.metadata?.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(back)).toEqual({ mapping: 'CUSTOMER', name: 'SECRET-VALUE-roundtrip' });
  });

  test('altered ciphertext, a changed key id or an unknown key fail with a clear error; unencrypted payloads pass', async () => {
    const codec = new AesGcmPayloadCodec({ key: key() });
    const [sealed] = await codec.encode([json('hello')]);
    const flipped = Buffer.from(sealed.data ?? []);
    flipped[20] ^= 1;
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow(/failed authentication: it was altered or the key is wrong/);
    const otherId = codecKeyId(key());
    await expect(codec.decode([{ ...sealed, metadata: { ...sealed.metadata, 'encryption-key-id': Buffer.from(otherId) } }])).rejects.toThrow(
      new PayloadDecryptionError(
        `A payload is encrypted with key ${otherId}, which this process does not have; add that key to COUPLING_SYNC_CODEC_PREVIOUS_KEYS.`,
      ),
    );
    const other = new AesGcmPayloadCodec({ key: key() });
    await expect(other.decode([sealed])).rejects.toThrow(PayloadDecryptionError);
    const plain = json({ old: true });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  test('rotation: a new key encrypts, the previous one still decrypts what it wrote', async () => {
    const oldKey = key();
    const newKey = key();
    const [old] = await new AesGcmPayloadCodec({ key: oldKey }).encode([json('written last year')]);
    const rotated = AesGcmPayloadCodec.fromEnv({
      COUPLING_SYNC_CODEC_KEY: newKey.toString('base64'),
      COUPLING_SYNC_CODEC_PREVIOUS_KEYS: ` ${oldKey.toString('hex')} `,
    });
    expect(rotated?.keyId).toBe(codecKeyId(newKey));
    expect(defaultPayloadConverter.fromPayload((await (rotated as AesGcmPayloadCodec).decode([old]))[0])).toBe('written last year');
  });
});

interface FoundPayload {
  path: string;
  payload: Payload;
}

/** Every Payload in a history, with where it sits. */
function payloadsIn(value: unknown, path: string, into: FoundPayload[]): FoundPayload[] {
  if (value === null || value === undefined || typeof value !== 'object' || value instanceof Uint8Array) return into;
  if (Array.isArray(value)) {
    value.forEach((v, i) => payloadsIn(v, `${path}[${i}]`, into));
    return into;
  }
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
    into.push({ path, payload: record as Payload });
    return into;
  }
  for (const k of Object.keys(record)) payloadsIn(record[k], `${path}.${k}`, into);
  return into;
}

describe('the codec on a real run', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await connectTestTemporal();
  });
  afterAll(async () => {
    await temporal?.close();
  });

  test('a run completes with the codec on client and worker; the stored payloads are ciphertext; the codec server decodes them for the UI', async () => {
    const bundlePath = process.env.TEMPORAL_TEST_BUNDLE as string;
    const marker = `SECRET-VALUE-${randomBytes(6).toString('hex')}`;
    const codec = new AesGcmPayloadCodec({ key: key() });
    const dataConverter = { payloadCodecs: [codec] };
    const { store, cleanup } = await sqliteDialect.open();
    const sys = await openTestSystems();
    const taskQueue = `codec-${randomUUID()}`;
    try {
      await store.saveMapping(
        testMapping({
          fields: [
            { localField: 'name', integrationField: 'name', direction: 'Bidirectional' },
            { localField: 'email', integrationField: 'emailaddress1', direction: 'Bidirectional', useForMatching: true },
          ],
        }),
      );
      await sys.local('customer').insert(Array.from({ length: 12 }, (_, i) => customer(i, { name: `${marker} ${i}` })));
      const worker = await createWorker({
        connection: temporal.nativeConnection,
        store,
        systems: sys.systems,
        taskQueue,
        workflowBundle: { codePath: bundlePath },
        dataConverter,
      });
      const client = new Client({ connection: temporal.client.connection, dataConverter });
      const sync = new CouplingSyncClient({ client, taskQueue });
      const workflowIds: string[] = [];
      await worker.runUntil(async () => {
        const coupled = await sync.startMatchBasedCoupling({ mapping: 'CUSTOMER', createNewIfNoMatch: true, batchSize: 4 });
        workflowIds.push(coupled.workflowId);
        expect((await coupled.result()).jobs[0].counters).toMatchObject({ coupled: 12 });
        const single = await sync.startSingleSync({ mapping: 'CUSTOMER', recordId: 'C3' });
        workflowIds.push(single.workflowId);
        await single.result();
        // The progress query's answer is a payload too: the client decodes it with the codec.
        expect(await sync.progress(coupled.workflowId)).toMatchObject({ mapping: 'CUSTOMER', phase: 'done' });
      });
      expect(await sys.integration('account').count({ n: '*' }).first()).toEqual({ n: 12 });

      const found: FoundPayload[] = [];
      for (const id of workflowIds) payloadsIn(await temporal.client.workflow.getHandle(id).fetchHistory(), id, found);
      // Search attributes are indexed by the server, so no codec touches them (they hold the mapping name and run kind).
      const coded = found.filter((f) => !/\.searchAttributes\./.test(f.path));
      expect(coded.length).toBeGreaterThanOrEqual(10);
      // A local activity's marker keeps the SDK's own bookkeeping (sequence, attempt, activity type, times) readable:
      // it is written by the SDK core, not through the codec, and holds no input or result (checked for leaks below).
      const bookkeeping = (f: FoundPayload): boolean => /\.markerRecordedEventAttributes\.details\.data\./.test(f.path);
      const readable = coded.filter((f) => !bookkeeping(f) && text(f.payload.metadata?.encoding) !== ENCRYPTED_ENCODING);
      expect(readable.map((f) => `${f.path}: ${text(f.payload.metadata?.encoding)} ${text(f.payload.data).slice(0, 80)}`)).toEqual([]);
      const leaks = coded.filter((f) => /CUSTOMER|"mapping"|SECRET-VALUE|"recordId"/.test(text(f.payload.data)));
      expect(leaks.map((f) => f.path)).toEqual([]);
      // Positive control: the same payloads decode to the inputs we sent.
      const decoded = await codec.decode(coded.filter((f) => !bookkeeping(f)).map((f) => f.payload));
      expect(decoded.map((p) => text(p.data)).join('\n')).toContain('"mapping":"CUSTOMER"');

      // The codec server, as the Web UI calls it.
      const ui = 'http://localhost:8233';
      const token = randomBytes(16).toString('hex');
      const server = await startCodecServer({ codec, port: 0, allowedOrigins: [ui], token });
      try {
        const asJson = (payloads: Payload[]): string =>
          JSON.stringify({
            payloads: payloads.map((p) => ({
              metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
              data: Buffer.from(p.data ?? []).toString('base64'),
            })),
          });
        const post = (route: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
          fetch(`${server.url}${route}`, {
            method: 'POST',
            body,
            headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: ui, Authorization: `Bearer ${token}`, ...headers },
          });
        const sample = coded
          .filter((f) => !bookkeeping(f))
          .slice(0, 5)
          .map((f) => f.payload);
        const response = await post('/decode', asJson(sample));
        expect(response.status).toBe(200);
        expect(response.headers.get('access-control-allow-origin')).toBe(ui);
        const body = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
        expect(body.payloads).toHaveLength(5);
        expect(Buffer.from(body.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
        expect(body.payloads.map((p) => Buffer.from(p.data, 'base64').toString()).join('\n')).toContain('CUSTOMER');
        // /encode then /decode is the identity.
        const plain = asJson([json({ hello: 'codec server' })]);
        const encoded = await (await post('/encode', plain)).text();
        expect(encoded).not.toContain(Buffer.from('codec server').toString('base64'));
        expect(JSON.parse(await (await post('/decode', encoded)).text())).toEqual(JSON.parse(plain));
        // The browser's preflight from the UI is answered; another site gets nothing.
        const preflight = await fetch(`${server.url}/decode`, {
          method: 'OPTIONS',
          headers: { Origin: ui, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
        });
        expect(preflight.status).toBe(204);
        expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
        const evil = await post('/decode', asJson(sample), { Origin: 'https://evil.example' });
        expect(evil.status).toBe(403);
        expect(evil.headers.get('access-control-allow-origin')).toBeNull();
        expect((await post('/decode', asJson(sample), { Authorization: 'Bearer wrong' })).status).toBe(401);
        expect((await post('/decode', 'not json')).status).toBe(400);
        const tampered = { ...sample[0], data: Buffer.from(sample[0].data ?? []).fill(7, 15, 20) };
        const refused = await post('/decode', asJson([tampered]));
        expect(refused.status).toBe(422);
        expect(((await refused.json()) as { error: string }).error).toMatch(/failed authentication/);
      } finally {
        await server.close();
      }
    } finally {
      await sys.close();
      await cleanup();
    }
  });
});
