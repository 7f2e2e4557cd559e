/** Removes credentials from text before it reaches a log, an error row or a failure message. */
const PATTERNS: [RegExp, string][] = [
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[redacted]'],
  [/((?:client_secret|password|passwd|pwd|api[_-]?key|access_token|refresh_token|secret)["']?\s*[:=]\s*["']?)[^\s"'&,;]+/gi, '$1[redacted]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s/]+@/gi, '$1[redacted]@'],
];

const extraSecrets = new Set<string>();

/** Registers a secret value (a client secret, an API key) so it is masked wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 6) extraSecrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of extraSecrets) out = out.split(secret).join('[redacted]');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
