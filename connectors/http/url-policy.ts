/**
 * Where the services' credentials may go. A client secret goes only to the
 * configured token URL and an access token only to the configured service
 * origin; both need https, except to a loopback address (an emulator, a local
 * proxy), since plain http would carry them in clear text.
 */
import { isLoopbackHost } from '../../common/loopback';
import { redact } from '../../support/redact';
import { ConnectorError } from '../connector-error';

/**
 * A credential would go somewhere it must not: a URL outside the configured
 * origin, or a plain-http one to another machine. No retry can fix it: like
 * refused credentials, it stops the run at once (kind 'auth').
 */
export class UntrustedUrlError extends ConnectorError {
  override readonly name = 'UntrustedUrlError';
  constructor(message: string) {
    super(message, { kind: 'auth' });
  }
}

/** `url` parsed, or an UntrustedUrlError naming `setting` and the URL's scheme and host. */
export function requireCredentialSafeUrl(url: string, setting: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UntrustedUrlError(redact(`${setting} ${JSON.stringify(url)} is not a URL.`));
  }
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) return parsed;
  throw new UntrustedUrlError(
    `${setting} ${parsed.protocol}//${parsed.host} would carry credentials in clear text: use https (plain http only to a loopback address, such as an emulator).`,
  );
}
