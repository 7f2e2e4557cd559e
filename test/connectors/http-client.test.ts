/**
 * The shared HTTP layer's credential rules: the access token goes only to the
 * configured origin, whatever URL a service's answer (an @odata.nextLink) names;
 * the client secret only to the token URL, and never waits forever for it.
 * A fake fetch records where each request would have gone, with which headers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, TransientHttpError } from '../../connectors/http/http-client';
import { ClientCredentialsTokenProvider, type TokenProvider } from '../../connectors/http/token-client';
import { isPermanentConfigurationError, isTransientError } from '../../connectors/transient';
import { DataverseConnector } from '../../connectors/dataverse';
import { startDataverseEmulator } from '../../emulators/dataverse/dataverse-emulator';

interface Sent {
  url: string;
  authorization: string | null;
}

/** A fake fetch; a path ending in /moved answers 302 to `redirectTo`, which it follows (headers and all) unless told `redirect: 'manual'`. */
function clientWith(baseUrl: string, redirectTo = 'https://evil.example/collect'): { http: HttpClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const tokens: TokenProvider = { getToken: async () => 'token-7f3a9c-value' };
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const authorization = new Headers(init?.headers).get('authorization');
    sent.push({ url: String(url), authorization });
    if (String(url).endsWith('/moved')) {
      if (init?.redirect !== 'manual') sent.push({ url: redirectTo, authorization });
      else return new Response('', { status: 302, headers: { Location: redirectTo } });
    }
    return new Response('{"value":[]}', { status: 200, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
  return { http: new HttpClient({ name: 'dataverse', baseUrl, tokens, maxConcurrency: 2, fetch: fakeFetch }), sent };
}

describe('HttpClient sends the access token only to the configured origin', () => {
  const base = 'https://org.crm.dynamics.com/api/data/v9.2/';

  test('relative paths and absolute URLs of the same origin are sent, with the token', async () => {
    const { http, sent } = clientWith(base);
    await http.send({ method: 'GET', url: 'accounts?$select=name' });
    await http.send({ method: 'GET', url: 'https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=x' });
    await http.send({ method: 'GET', url: 'https://ORG.crm.dynamics.com:443/api/data/v9.2/accounts' });
    expect(sent.map((s) => s.url)).toEqual([
      'https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name',
      'https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=x',
      'https://org.crm.dynamics.com/api/data/v9.2/accounts',
    ]);
    expect(sent.every((s) => s.authorization === 'Bearer token-7f3a9c-value')).toBe(true);
  });

  test.each([
    ['another host', 'https://evil.example/api/data/v9.2/accounts?$skiptoken=x', 'https://evil.example'],
    ['a sibling host', 'https://org.crm.dynamics.com.evil.example/api/data/v9.2/accounts', 'https://org.crm.dynamics.com.evil.example'],
    ['plain http to the same host', 'http://org.crm.dynamics.com/api/data/v9.2/accounts', 'http://org.crm.dynamics.com'],
    ['another port', 'https://org.crm.dynamics.com:8443/api/data/v9.2/accounts', 'https://org.crm.dynamics.com:8443'],
    ['a protocol-relative link', '//evil.example/api/data/v9.2/accounts', 'https://evil.example'],
    ['user info before the host', 'https://org.crm.dynamics.com@evil.example/api/data/v9.2/accounts', 'https://evil.example'],
  ])('%s is refused, non-retryable, naming the origin, and nothing is sent', async (_what, url, origin) => {
    const { http, sent } = clientWith(base);
    const error = await http.send({ method: 'GET', url }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(origin);
    expect((error as Error).message).toContain('https://org.crm.dynamics.com');
    expect((error as Error).message).not.toContain('token-7f3a9c-value');
    expect(isPermanentConfigurationError(error)).toBe(true);
    expect(isTransientError(error)).toBe(false);
    expect(sent).toEqual([]);
  });

  test('a redirect is not followed with the token: to another origin it is refused like a link there', async () => {
    const { http, sent } = clientWith(base);
    const error = await http.send({ method: 'GET', url: 'accounts/moved' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain('https://evil.example');
    expect(isPermanentConfigurationError(error)).toBe(true);
    expect(sent.map((s) => s.url)).toEqual(['https://org.crm.dynamics.com/api/data/v9.2/accounts/moved']);
  });
});

test('a Dataverse nextLink that points elsewhere ends the read, naming the host; the token never leaves', async () => {
  const emulator = await startDataverseEmulator();
  try {
    emulator.put(
      'accounts',
      Array.from({ length: 5 }, (_, i) => ({ name: `Account ${i}` })),
    );
    const seen: Sent[] = [];
    // A service (or something in the middle) answering with a nextLink to a host of its choosing.
    const hostile = (async (url: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(url), authorization: new Headers(init?.headers).get('authorization') });
      const response = await fetch(url, init);
      const text = await response.text();
      const body = text.replace(/"@odata\.nextLink":"http:\/\/127\.0\.0\.1:\d+/, '"@odata.nextLink":"https://collector.evil.example');
      return new Response(body, { status: response.status, headers: response.headers });
    }) as typeof fetch;
    const connector = new DataverseConnector({
      name: 'dataverse',
      environmentUrl: emulator.environmentUrl,
      credentials: { tokenUrl: emulator.tokenUrl, clientId: emulator.clientId, clientSecret: emulator.clientSecret },
      tables: { account: { entitySet: 'accounts', idAttribute: 'accountid', columns: ['name'] } },
      pageSize: 2,
      fetch: hostile,
    });
    const error = await connector.scanKeys({ table: 'account', filter: [], since: null, after: null, limit: 100 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/collector\.evil\.example/);
    expect(isPermanentConfigurationError(error)).toBe(true);
    expect(seen.filter((s) => s.url.includes('evil.example'))).toEqual([]);
    expect(seen.filter((s) => s.authorization !== null).every((s) => s.url.startsWith(emulator.environmentUrl))).toBe(true);
  } finally {
    await emulator.close();
  }
});

describe('the token request', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  async function serve(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const credentials = (tokenUrl: string) => ({
    tokenUrl,
    clientId: 'app-id',
    clientSecret: 'cs-7f3a9c-secret',
    scope: 'https://org.crm.dynamics.com/.default',
  });

  test('a token endpoint that never answers times out: a passing failure naming the host, not a hang', async () => {
    const origin = await serve(() => {
      /* accepts the request and never answers */
    });
    const tokens = new ClientCredentialsTokenProvider(credentials(`${origin}/t/oauth2/v2.0/token`), { timeoutMs: 300 });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      tokens.getToken().then(
        () => 'a token',
        (e: unknown) => e,
      ),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still waiting after 5 s'), 5000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(outcome).toBeInstanceOf(TransientHttpError);
    expect((outcome as Error).message).toMatch(/token request .*127\.0\.0\.1:\d+ timed out after 300 ms/);
    expect((outcome as Error).message).not.toContain('cs-7f3a9c-secret');
  });

  test('a redirect from the token endpoint is not followed with the secret', async () => {
    const received: string[] = [];
    const collector = await serve((req, res) => {
      req.on('data', (c: Buffer) => received.push(c.toString()));
      req.on('end', () => res.end('{"access_token":"x","expires_in":3600}'));
    });
    const origin = await serve((_req, res) => {
      res.writeHead(307, { Location: `${collector}/steal` });
      res.end();
    });
    const tokens = new ClientCredentialsTokenProvider(credentials(`${origin}/t/oauth2/v2.0/token`));
    const error = await tokens.getToken().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isPermanentConfigurationError(error)).toBe(true);
    expect((error as Error).message).toContain(collector);
    expect(received).toEqual([]);
  });

  test('a plain-http token URL to another machine is refused before any request', () => {
    expect(() => new ClientCredentialsTokenProvider(credentials('http://login.example.com/t/oauth2/v2.0/token'), { name: 'dataverse' })).toThrow(
      /^dataverse: tokenUrl http:\/\/login\.example\.com would carry credentials in clear text/,
    );
  });
});
