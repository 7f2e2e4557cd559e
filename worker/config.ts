/**
 * Worker configuration from the environment: where Temporal is (address,
 * namespace, TLS, API key as for Temporal Cloud) and where the store is.
 */
import { readFileSync } from 'node:fs';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { TASK_QUEUE } from '../common/constants';

export interface TemporalConfig {
  /** @default 'localhost:7233' */
  address: string;
  /** @default 'default' */
  namespace: string;
  /** @default TASK_QUEUE */
  taskQueue: string;
  tls: NativeConnectionOptions['tls'];
  apiKey: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function readPem(env: NodeJS.ProcessEnv, variable: string): Buffer | undefined {
  const file = env[variable];
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch {
    throw new ConfigError(`${variable} points to "${file}", which cannot be read; give the path of a PEM file.`);
  }
}

/**
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS (true to use TLS with system roots), TEMPORAL_TLS_CA,
 * TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (paths of PEM files, for mTLS),
 * TEMPORAL_TLS_SERVER_NAME.
 */
export function temporalConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const cert = env.TEMPORAL_TLS_CERT ? readPem(env, 'TEMPORAL_TLS_CERT') : undefined;
  const key = env.TEMPORAL_TLS_KEY ? readPem(env, 'TEMPORAL_TLS_KEY') : undefined;
  if ((cert && !key) || (!cert && key)) throw new ConfigError('Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY for mTLS, or neither.');
  const ca = env.TEMPORAL_TLS_CA ? readPem(env, 'TEMPORAL_TLS_CA') : undefined;
  const apiKey = env.TEMPORAL_API_KEY?.trim() || undefined;
  const wantsTls = env.TEMPORAL_TLS === 'true' || !!cert || !!ca || !!apiKey;
  const tls: NativeConnectionOptions['tls'] = wantsTls
    ? {
        serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME || undefined,
        serverRootCACertificate: ca,
        clientCertPair: cert && key ? { crt: cert, key } : undefined,
      }
    : undefined;
  return {
    address: env.TEMPORAL_ADDRESS?.trim() || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE?.trim() || TASK_QUEUE,
    tls,
    apiKey,
  };
}
