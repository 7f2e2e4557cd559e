/**
 * An optional PayloadCodec that encrypts every payload (workflow inputs and
 * results, activity inputs and results, heartbeat details, memos) with
 * AES-256-GCM before it leaves the process, so the Temporal server and its
 * database hold ciphertext only. The workflows already carry ids, cursors and
 * counts rather than record contents; this is for teams whose policy is that
 * nothing readable leaves their network. Failure messages and search
 * attributes are not payloads and stay readable (both are redacted and hold
 * ids and mapping names only).
 *
 * Wire format (as Temporal's encryption samples): metadata
 * `encoding: binary/encrypted`, `encryption-key-id`, `encryption-cipher`; data
 * = 12-byte IV || ciphertext || 16-byte tag of the serialized original
 * Payload, with the key id as additional authenticated data.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { registerSecret } from '../support/redact';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';

/** The variables teams set to turn the codec on (worker and client alike). */
export const CODEC_ENV = {
  key: 'COUPLING_SYNC_CODEC_KEY',
  previousKeys: 'COUPLING_SYNC_CODEC_PREVIOUS_KEYS',
} as const;

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';
}

export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/** A 32-byte key given as 64 hex digits or as base64 (standard or URL-safe). */
export function parseCodecKey(text: string, variable: string = CODEC_ENV.key): Buffer {
  const value = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : null;
  if (!key || key.length !== 32) {
    throw new CodecKeyError(`${variable} must be a 32-byte key, as 64 hex digits or base64 (e.g. from "openssl rand -base64 32").`);
  }
  return key;
}

/** A key's id, derived so rotation needs no second variable: the same key always has the same id. */
export function codecKeyId(key: Buffer): string {
  return `k-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export interface AesGcmPayloadCodecOptions {
  /** Encrypts new payloads; decrypts its own. */
  key: Buffer;
  /** Earlier keys, still able to decrypt what they encrypted (key rotation). */
  previousKeys?: Buffer[];
}

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly keyId: string;
  private readonly key: Buffer;
  private readonly keys = new Map<string, Buffer>();

  constructor(options: AesGcmPayloadCodecOptions) {
    for (const k of [options.key, ...(options.previousKeys ?? [])]) {
      if (k.length !== 32) throw new CodecKeyError('An AES-256-GCM key must be 32 bytes.');
      this.keys.set(codecKeyId(k), k);
      // Masked in every log line and failure message, in each form a key may be written in.
      for (const encoding of ['hex', 'base64', 'base64url'] as const) registerSecret(k.toString(encoding));
    }
    this.key = options.key;
    this.keyId = codecKeyId(options.key);
  }

  /** The codec from COUPLING_SYNC_CODEC_KEY (and ..._PREVIOUS_KEYS, comma-separated), or null when no key is set. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | null {
    const current = env[CODEC_ENV.key]?.trim();
    if (!current) return null;
    const previous = (env[CODEC_ENV.previousKeys] ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    return new AesGcmPayloadCodec({ key: parseCodecKey(current), previousKeys: previous.map((k) => parseCodecKey(k, CODEC_ENV.previousKeys)) });
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      cipher.setAAD(utf8(this.keyId));
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.keyId), [CIPHER_METADATA]: utf8(CIPHER) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before the codec was turned on stay readable.
      if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyId = text(payload.metadata?.[KEY_ID_METADATA]) ?? '(none)';
      const key = this.keys.get(keyId);
      if (!key) {
        throw new PayloadDecryptionError(
          `A payload is encrypted with key ${keyId}, which this process does not have; add that key to ${CODEC_ENV.previousKeys}.`,
        );
      }
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`A payload encrypted with key ${keyId} is too short to be ciphertext.`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(`A payload encrypted with key ${keyId} failed authentication: it was altered or the key is wrong.`);
      }
      const decoded = temporal.api.common.v1.Payload.decode(plain);
      return { metadata: decoded.metadata, data: decoded.data };
    });
  }
}

/**
 * The data converter for a client or worker: the codec when COUPLING_SYNC_CODEC_KEY
 * is set, otherwise undefined (Temporal's default). Client and worker must agree.
 */
export function codecDataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = AesGcmPayloadCodec.fromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
