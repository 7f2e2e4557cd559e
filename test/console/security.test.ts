/**
 * Who may use the console and which requests may change something, through
 * the app itself (no browser): the token off loopback, the Host check against
 * DNS rebinding, the CSRF field and the Origin check on every POST.
 */
import type { CouplingSyncClient } from '../../client';
import type { SyncSchedules } from '../../client/schedules';
import { createConsoleApp } from '../../console/server';
import { consoleSecurity, localPath, TOKEN_COOKIE, type ConsoleSecurity } from '../../console/security';
import type { Store } from '../../store/store';
import { sqliteDialect } from '../helpers/stores';

let store: Store;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await sqliteDialect.open());
});
afterAll(async () => {
  await cleanup?.();
});

// These requests never reach Temporal: refused before any handler, or answered from the store alone.
const unreachable = new Proxy({}, { get: () => () => Promise.reject(new Error('no Temporal in this test')) });
const appFor = (security: ConsoleSecurity) =>
  createConsoleApp({ store, sync: unreachable as CouplingSyncClient, schedules: unreachable as SyncSchedules, webUiUrl: null, namespace: 'default' }, security);

const TOKEN = 'a-token-of-enough-length';

test('an address other machines can reach needs a token of 16 characters or more', () => {
  expect(() => consoleSecurity('0.0.0.0', undefined)).toThrow(/set COUPLING_SYNC_CONSOLE_TOKEN .* or bind it to 127\.0\.0\.1/);
  expect(() => consoleSecurity('192.168.1.5', 'short')).toThrow('COUPLING_SYNC_CONSOLE_TOKEN must be at least 16 characters.');
  expect(consoleSecurity('127.0.0.1', undefined).token).toBeNull();
  expect(consoleSecurity('localhost', undefined).csrf).toMatch(/^[\w-]{32}$/);
});

test('off loopback, every request needs the token: a bearer header, or the cookie /login sets', async () => {
  const app = appFor(consoleSecurity('0.0.0.0', TOKEN));
  const host = { host: 'console.example:8234' };
  expect((await app.request('/static/console.css', { headers: host })).status).toBe(401);
  expect((await app.request('/static/console.css', { headers: { ...host, authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
  expect((await app.request('/static/console.css', { headers: { ...host, authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  expect((await app.request('/login?token=nope', { headers: host })).status).toBe(401);
  const login = await app.request(`/login?token=${TOKEN}`, { headers: host });
  expect(login.status).toBe(303);
  const cookie = login.headers.get('set-cookie') ?? '';
  expect(cookie).toMatch(new RegExp(`^${TOKEN_COOKIE}=${TOKEN};`));
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  const page = await app.request('/mappings', { headers: { ...host, cookie: `${TOKEN_COOKIE}=${TOKEN}` } });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<h1>Mappings</h1>');
});

test('on loopback, a Host that is not a loopback name is refused (DNS rebinding)', async () => {
  const app = appFor(consoleSecurity('127.0.0.1', undefined));
  expect((await app.request('/mappings', { headers: { host: 'attacker.example' } })).status).toBe(421);
  expect((await app.request('/mappings', { headers: { host: '127.0.0.1:8234' } })).status).toBe(200);
  expect((await app.request('/mappings', { headers: { host: 'localhost:8234' } })).status).toBe(200);
});

test('a POST without the CSRF field, or from another origin, is refused before it starts anything', async () => {
  const security = consoleSecurity('127.0.0.1', undefined);
  const app = appFor(security);
  const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    app.request('/couplings/actions', {
      method: 'POST',
      headers: { host: 'localhost:8234', 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  const form = { mapping: 'NOPE', action: 'retry', ids: 'local:C1' };
  expect((await post(form)).status).toBe(403);
  expect((await post({ ...form, csrf: 'guessed' })).status).toBe(403);
  expect((await post({ ...form, csrf: security.csrf }, { origin: 'http://attacker.example' })).status).toBe(403);
  expect((await post({ ...form, csrf: security.csrf }, { origin: 'null' })).status).toBe(403);
  // The right field from the console's own origin reaches the action (which refuses an unknown mapping).
  const through = await post({ ...form, csrf: security.csrf }, { origin: 'http://localhost:8234' });
  expect(through.status).toBe(400);
  expect(await through.text()).toContain('Unknown mapping or action.');
});

test('pages carry headers that keep them out of frames and scripts from elsewhere out of them', async () => {
  const response = await appFor(consoleSecurity('127.0.0.1', undefined)).request('/mappings', { headers: { host: 'localhost' } });
  expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
});

test("a run page's Back link goes only to a path of the console, never to another site", () => {
  expect(localPath('/couplings?mapping=CUSTOMER&view=failed')).toBe('/couplings?mapping=CUSTOMER&view=failed');
  for (const outside of ['//attacker.example', '/\\attacker.example', 'https://attacker.example', 'javascript:alert(1)', '/\tx', '/a b', undefined])
    expect(localPath(outside)).toBeNull();
});
