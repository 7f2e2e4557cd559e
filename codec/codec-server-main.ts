/**
 * `npm run codec-server`: decodes our encrypted payloads for the Web UI.
 * Env: COUPLING_SYNC_CODEC_KEY (and ..._PREVIOUS_KEYS), CODEC_SERVER_PORT
 * (8888), CODEC_SERVER_HOST (127.0.0.1), CODEC_SERVER_ORIGINS (comma-separated
 * origins of the Web UI, http://localhost:8233), CODEC_SERVER_TOKEN (optional
 * bearer token every request must carry).
 */
import { runMain } from '../support/fatal';
import { AesGcmPayloadCodec, CODEC_ENV } from './aes-gcm-codec';
import { startCodecServer } from './codec-server';

async function main(): Promise<void> {
  const codec = AesGcmPayloadCodec.fromEnv();
  if (!codec) throw new Error(`${CODEC_ENV.key} is not set: the codec server needs the key the workers encrypt with.`);
  const port = Number(process.env.CODEC_SERVER_PORT ?? 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`CODEC_SERVER_PORT is "${process.env.CODEC_SERVER_PORT}"; give a port number.`);
  const allowedOrigins = (process.env.CODEC_SERVER_ORIGINS ?? 'http://localhost:8233')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const server = await startCodecServer({
    codec,
    port,
    host: process.env.CODEC_SERVER_HOST ?? '127.0.0.1',
    allowedOrigins,
    token: process.env.CODEC_SERVER_TOKEN || undefined,
  });
  console.log(`Codec server at ${server.url} (key ${codec.keyId}) for ${allowedOrigins.join(', ')}; in the Web UI: Settings -> Codec Server -> ${server.url}`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

runMain(main);
