/**
 * Worker configuration from the environment: where Temporal is (address,
 * namespace, TLS, API key as for Temporal Cloud) and where the store is.
 * Variable names follow the Temporal CLI's, so one set of variables serves
 * both. A certificate problem is found here and told in one sentence, instead
 * of surfacing later as an opaque TLS handshake failure.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { TASK_QUEUE } from '../common/constants';
import { registerSecret } from '../support/redact';
import { hostOfAddress, isLoopbackHost } from '../common/loopback';
import { UserFacingError } from '../support/user-facing-error';

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

/** What Connection.connect and NativeConnection.connect both take. */
export type TemporalConnectionOptions = Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey'>;

export class ConfigError extends UserFacingError {
  override readonly name: string = 'ConfigError';
}

type PemKind = 'certificate' | 'private key';

/** A PEM from TEMPORAL_TLS_<NAME> (a file path) or TEMPORAL_TLS_<NAME>_DATA (the PEM text itself). */
function readPem(env: NodeJS.ProcessEnv, variable: string, kind: PemKind): Buffer | undefined {
  const file = env[variable]?.trim();
  const inline = env[`${variable}_DATA`]?.trim();
  if (file && inline) throw new ConfigError(`Set ${variable} (a file path) or ${variable}_DATA (the PEM itself), not both.`);
  let pem: Buffer;
  let source: string;
  if (file) {
    try {
      pem = readFileSync(file);
    } catch {
      throw new ConfigError(`${variable} points to "${file}", which cannot be read; give the path of a PEM file.`);
    }
    source = `${variable} ("${file}")`;
  } else if (inline) {
    pem = Buffer.from(inline.replace(/\\n/g, '\n'));
    source = `${variable}_DATA`;
  } else {
    return undefined;
  }
  const marker = kind === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!marker.test(pem.toString('utf8'))) {
    throw new ConfigError(`${source} holds no PEM ${kind} (a "-----BEGIN ${kind === 'certificate' ? 'CERTIFICATE' : 'PRIVATE KEY'}-----" block).`);
  }
  return pem;
}

function parseCertificate(pem: Buffer, variable: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new ConfigError(`${variable} holds a PEM block that is not a readable X.509 certificate.`);
  }
  const now = Date.now();
  if (Date.parse(cert.validTo) < now) throw new ConfigError(`${variable} expired on ${new Date(cert.validTo).toISOString()}; renew the certificate.`);
  if (Date.parse(cert.validFrom) > now)
    throw new ConfigError(`${variable} is not valid before ${new Date(cert.validFrom).toISOString()}; check the certificate or this machine's clock.`);
  return cert;
}

function parseKey(pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new ConfigError('TEMPORAL_TLS_KEY holds a PEM block that is not a readable, unencrypted private key.');
  }
}

/** TEMPORAL_TLS: true/false (1/0, yes/no); absent: TLS when anything asks for it (a certificate, a CA, an API key). */
function tlsSwitch(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`TEMPORAL_TLS is "${value}"; use true or false.`);
}

/**
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TEMPORAL_API_KEY;
 * TEMPORAL_TLS (true/false; on by default when a certificate, a CA or an API key is given);
 * TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY: PEM file paths (or the PEM
 * itself in TEMPORAL_TLS_CA_DATA, TEMPORAL_TLS_CERT_DATA, TEMPORAL_TLS_KEY_DATA);
 * TEMPORAL_TLS_SERVER_NAME: the name the server's certificate must carry.
 */
export function temporalConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const cert = readPem(env, 'TEMPORAL_TLS_CERT', 'certificate');
  const key = readPem(env, 'TEMPORAL_TLS_KEY', 'private key');
  if ((cert && !key) || (!cert && key)) throw new ConfigError('Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY for mTLS, or neither.');
  if (cert && key) {
    const certificate = parseCertificate(cert, 'TEMPORAL_TLS_CERT');
    if (!certificate.checkPrivateKey(parseKey(key))) {
      throw new ConfigError('TEMPORAL_TLS_KEY is not the private key of the certificate in TEMPORAL_TLS_CERT; give the key the certificate was issued for.');
    }
  }
  const ca = readPem(env, 'TEMPORAL_TLS_CA', 'certificate');
  if (ca) parseCertificate(ca, 'TEMPORAL_TLS_CA');
  const apiKey = env.TEMPORAL_API_KEY?.trim() || undefined;
  // The key must never be echoed by a log line or a failure message.
  registerSecret(apiKey);
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim() || undefined;
  const requested = tlsSwitch(env.TEMPORAL_TLS);
  if (requested === false && (cert || ca || serverName)) {
    throw new ConfigError('TEMPORAL_TLS is false, but TLS certificates or a server name are set; remove them or set TEMPORAL_TLS=true.');
  }
  const address = env.TEMPORAL_ADDRESS?.trim() || 'localhost:7233';
  // Plain text carries the key as it is: only to this machine (a local TLS-terminating proxy).
  if (requested === false && apiKey && !isLoopbackHost(hostOfAddress(address))) {
    throw new ConfigError(
      `TEMPORAL_TLS is false, so TEMPORAL_API_KEY would travel in clear text to ${address}; turn TLS on, or use a loopback address (a local TLS-terminating proxy).`,
    );
  }
  const wantsTls = requested ?? (!!cert || !!ca || !!apiKey || !!serverName);
  const tls: NativeConnectionOptions['tls'] = wantsTls
    ? {
        serverNameOverride: serverName,
        serverRootCACertificate: ca,
        clientCertPair: cert && key ? { crt: cert, key } : undefined,
      }
    : undefined;
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE?.trim() || TASK_QUEUE,
    tls,
    apiKey,
  };
}

/** The connection part of a config, for Connection.connect (clients) and NativeConnection.connect (workers) alike. */
export function connectionOptions(config: TemporalConfig): TemporalConnectionOptions {
  return { address: config.address, tls: config.tls, apiKey: config.apiKey };
}
