/**
 * Whether a host never leaves this machine. Credentials may travel in plain
 * text only to such a host (an emulator, a local TLS-terminating proxy); to
 * any other they need TLS. No lookups: a name that merely resolves to
 * 127.0.0.1 (a DNS record anyone can publish) does not count.
 */

/** The host as URL parsing writes it: lower case, IPv4 in dotted decimal, IPv6 compressed in brackets. */
function canonicalHost(host: string): string | null {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  try {
    return new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}/`).hostname;
  } catch {
    return null;
  }
}

/** localhost, 127.0.0.0/8 and ::1 (and IPv4-mapped 127.x), however written. */
export function isLoopbackHost(host: string): boolean {
  const h = canonicalHost(host);
  if (h === null) return false;
  return h === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(h);
}

/** The host of a Temporal-style address: "host:port", "[v6]:port" or a bare host. */
export function hostOfAddress(address: string): string {
  const a = address.trim();
  const bracketed = /^\[([^\]]+)\]/.exec(a);
  if (bracketed) return bracketed[1];
  // A bare IPv6 address has several colons; "host:port" has one.
  return (a.match(/:/g) ?? []).length > 1 ? a : a.replace(/:\d*$/, '');
}
