/**
 * Who may use the console, and which requests may change something.
 * - Bound to loopback by default; any other address needs a token (a
 *   bearer header, or the cookie `/login?token=...` sets).
 * - On loopback, the Host header must be a loopback name too, so a web page
 *   whose DNS name rebinds to 127.0.0.1 cannot read or drive it.
 * - Every POST carries the page's CSRF field, and an Origin, when the browser
 *   sends one, must be this server's own.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { hostOfAddress, isLoopbackHost } from '../common/loopback';
import { UserFacingError } from '../support/user-facing-error';

export const TOKEN_COOKIE = 'coupling_console_token';

export class ConsoleConfigError extends UserFacingError {
  override readonly name: string = 'ConsoleConfigError';
}

export interface ConsoleSecurity {
  host: string;
  token: string | null;
  csrf: string;
}

export function consoleSecurity(host: string, token: string | null | undefined): ConsoleSecurity {
  const loopback = isLoopbackHost(host);
  if (!loopback && !token) {
    throw new ConsoleConfigError(
      `The console would listen on ${host}, which other machines can reach: set COUPLING_SYNC_CONSOLE_TOKEN (at least 16 characters) or bind it to 127.0.0.1.`,
    );
  }
  if (token && token.length < 16) throw new ConsoleConfigError('COUPLING_SYNC_CONSOLE_TOKEN must be at least 16 characters.');
  return { host, token: token || null, csrf: randomBytes(24).toString('base64url') };
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: with it, browsers send "Origin: null" on the console's own form posts.
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export function securityMiddleware(security: ConsoleSecurity): MiddlewareHandler {
  const loopback = isLoopbackHost(security.host);
  return async (c, next) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    const hostHeader = c.req.header('host') ?? '';
    if (loopback && !isLoopbackHost(hostOfAddress(hostHeader))) return c.text(`Refused: the console answers to loopback names, not to "${hostHeader}".`, 421);

    if (security.token) {
      const url = new URL(c.req.url);
      if (url.pathname === '/login' && c.req.method === 'GET') {
        const given = url.searchParams.get('token') ?? '';
        if (!same(given, security.token)) return c.text('Wrong token.', 401);
        setCookie(c, TOKEN_COOKIE, security.token, { httpOnly: true, sameSite: 'Strict', path: '/' });
        return c.redirect('/mappings', 303);
      }
      const bearer = c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
      const cookie = getCookie(c, TOKEN_COOKIE) ?? '';
      if (!same(bearer, security.token) && !same(cookie, security.token)) {
        return c.text('This console needs its token: open /login?token=<COUPLING_SYNC_CONSOLE_TOKEN> once, or send "Authorization: Bearer <token>".', 401);
      }
    }

    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = c.req.header('origin');
      if (origin !== undefined && origin !== 'null') {
        let originHost: string;
        try {
          originHost = new URL(origin).host;
        } catch {
          return c.text('Refused: a malformed Origin.', 403);
        }
        if (originHost !== hostHeader) return c.text('Refused: a request from another site.', 403);
      } else if (origin === 'null') {
        return c.text('Refused: a request from an opaque origin.', 403);
      }
      const form = await c.req.parseBody({ all: true });
      const csrf = typeof form.csrf === 'string' ? form.csrf : '';
      if (!same(csrf, security.csrf)) return c.text('Refused: the form is stale or from elsewhere (CSRF field missing or wrong); reload the page.', 403);
    }
    await next();
  };
}

/**
 * A path on this console for a "Back" link, or null: never another site's
 * address ("//host", or "/\host", which browsers read as "//host").
 */
export function localPath(value: string | undefined): string | null {
  if (value === undefined || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return null;
  return /^[\x21-\x7e]*$/.test(value) ? value : null;
}
