/**
 * A TLS-terminating gRPC front for the plain-text dev server, like the load
 * balancer in front of a secured cluster: it presents a server certificate,
 * demands a client certificate signed by its CA (mTLS), records what each call
 * carried (client certificate subject, authorization header, namespace) and
 * forwards the call over HTTP/2 to the dev server. `temporal server start-dev`
 * has no TLS options, so this is how a test reaches Temporal over real mTLS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface SeenCall {
  path: string;
  clientCertSubject: string | null;
  authorization: string | null;
}

export interface TlsProxy {
  /** host:port to connect to (use the server name override: the certificate is for SERVER_NAME). */
  address: string;
  calls: SeenCall[];
  /** Handshakes the proxy refused (no client certificate, or one from another CA). */
  rejectedHandshakes: number;
  close(): Promise<void>;
}

export async function startTlsProxy(options: { backend: string; key: Buffer; cert: Buffer; ca: Buffer }): Promise<TlsProxy> {
  const backend = http2.connect(`http://${options.backend}`);
  backend.on('error', () => undefined);
  const calls: SeenCall[] = [];
  const proxy: TlsProxy = { address: '', calls, rejectedHandshakes: 0, close: async () => undefined };
  const server = http2.createSecureServer({
    key: options.key,
    cert: options.cert,
    ca: options.ca,
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
  });
  server.on('tlsClientError', () => {
    proxy.rejectedHandshakes++;
  });
  server.on('stream', (stream, headers) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    const peer = socket?.getPeerCertificate();
    calls.push({
      path: String(headers[':path']),
      clientCertSubject: peer?.subject ? `CN=${peer.subject.CN}` : null,
      authorization: typeof headers.authorization === 'string' ? headers.authorization : null,
    });
    const forwarded: http2.OutgoingHttpHeaders = { ':method': headers[':method'], ':path': headers[':path'] };
    for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':') && value !== undefined) forwarded[name] = value;
    const upstream = backend.request(forwarded);
    let trailers: http2.IncomingHttpHeaders = {};
    upstream.on('response', (responseHeaders) => {
      const out: http2.OutgoingHttpHeaders = { ...responseHeaders };
      // A trailers-only response (an error with no body) carries grpc-status in its headers and ends there.
      const trailersOnly = responseHeaders['grpc-status'] !== undefined;
      if (stream.destroyed) return;
      stream.respond(out, trailersOnly ? { endStream: true } : { waitForTrailers: true });
      if (!trailersOnly) upstream.pipe(stream);
    });
    upstream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('wantTrailers', () => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(trailers)) if (!name.startsWith(':') && value !== undefined) out[name] = value;
      stream.sendTrailers(out);
    });
    stream.pipe(upstream);
    const abort = (): void => {
      if (!upstream.destroyed) upstream.close(http2.constants.NGHTTP2_CANCEL);
    };
    stream.on('close', abort);
    stream.on('error', abort);
    upstream.on('error', () => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    backend.close();
  };
  return proxy;
}

/** The name on the test server certificate; clients connect with it as the server name override. */
export const SERVER_NAME = 'temporal.test';

export interface TestPki {
  dir: string;
  file(name: string): string;
  read(name: string): Buffer;
  cleanup(): void;
}

/**
 * A CA, a server certificate for SERVER_NAME, a client certificate, a client
 * certificate from another CA and an expired one, made with the openssl CLI
 * (P-256 keys: quick to make, accepted by rustls and OpenSSL alike).
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cs-pki-'));
  const at = (name: string): string => path.join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const makeCa = (name: string): void =>
    ssl(
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const issue = (name: string, ca: string, subject: string, ext: string): void => {
    writeFileSync(at(`${name}.ext`), ext);
    ssl('req', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
    );
  };
  makeCa('ca');
  makeCa('other-ca');
  issue(
    'server',
    'ca',
    `/CN=${SERVER_NAME}`,
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${SERVER_NAME}\n`,
  );
  issue('client', 'ca', '/CN=coupling-sync-worker', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  issue('stranger', 'other-ca', '/CN=stranger', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  // An expired client certificate: `openssl ca` is the 3.0 CLI's way to set past dates.
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('serial'), '01\n');
  writeFileSync(
    at('ca.cnf'),
    '[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n',
  );
  ssl('req', '-new', ...ecKey, '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=expired');
  ssl(
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    'ca.pem',
    '-keyfile',
    'ca.key',
    '-in',
    'expired.csr',
    '-out',
    'expired.pem',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200201000000Z',
    '-notext',
  );
  return {
    dir,
    file: at,
    read: (name) => readFileSync(at(name)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
