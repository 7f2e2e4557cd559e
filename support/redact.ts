/** Removes credentials from text before it reaches a log, an error row or a failure message. */

/** Names under which credentials travel in URLs, form bodies, JSON, headers and DSNs (any case, camelCase too). */
const KEYS = [
  'client[_-]?secret',
  'password',
  'passwd',
  'pwd',
  'api[_-]?key',
  'subscription[_-]?key',
  'private[_-]?key',
  '(?:access|refresh|id|session|auth)[_-]?token',
  'token',
  'secret',
  'credentials?',
  'sig',
  'signature',
].join('|');

const PATTERNS: [RegExp, string][] = [
  // PEM blocks of private keys, whole.
  [/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, '-----BEGIN $1PRIVATE KEY----- [redacted]'],
  // Authorization schemes: the credential follows the scheme name.
  [/(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[redacted]'],
  // A JSON Web Token anywhere, labelled or not.
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted]'],
  // key = "quoted value" (JSON, headers, configs): the whole quoted value, spaces included.
  [new RegExp(`((?:${KEYS})["']?\\s*[:=]\\s*)(["'])(?:\\\\.|(?!\\2)[^\\\\])*\\2`, 'gi'), '$1$2[redacted]$2'],
  // key=value (query strings, form bodies, DSNs, "key: value").
  [new RegExp(`((?:${KEYS})["']?\\s*[:=]\\s*)(?!["'\\s])[^\\s"'&,;)}\\]]+`, 'gi'), '$1[redacted]'],
  // scheme://user:password@host (the password may itself hold "@"; the last one before the host ends it).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^\s/]*@/gi, '$1[redacted]@'],
];

const extraSecrets = new Set<string>();

/** Registers a secret value (a client secret, an API key) so it is masked wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 6) extraSecrets.add(secret);
}

/**
 * Masking a plain word everywhere (POSTGRES_PASSWORD=postgres is common in
 * development) would garble every message that mentions it: only values of
 * eight characters or more that mix letters with digits, cases or symbols are
 * registered from the environment. Labelled secrets are masked by the patterns anyway.
 */
function looksGenerated(value: string): boolean {
  if (value.length < 8) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((c) => c.test(value)).length;
  return classes >= 2;
}

/**
 * Environment variables whose values are credentials by their name (the name ends with the word: not PASSWORD_FILE),
 * and the payload codec's keys (COUPLING_SYNC_CODEC_KEY, and ..._PREVIOUS_KEYS, a comma-separated list).
 */
const SECRET_ENV = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|CREDENTIALS?|PRIVATE_KEY|CODEC_KEY|CODEC_PREVIOUS_KEYS)$/i;
/** Of those, the ones holding a list: each item is registered too. */
const SECRET_LIST_ENV = /_KEYS$/i;

/**
 * Registers the worker's secrets from its environment: variables named like a
 * credential, and the password of any URL-valued variable (DATABASE_URL...),
 * so they are masked even where no pattern would recognise them.
 */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_ENV.test(name)) {
      const values = SECRET_LIST_ENV.test(name) ? [value, ...value.split(',')] : [value];
      for (const v of values) if (looksGenerated(v.trim())) registerSecret(v.trim());
    }
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:([^\s/]*)@/i.exec(value.trim());
    if (userinfo?.[1] && looksGenerated(userinfo[1])) {
      registerSecret(userinfo[1]);
      try {
        registerSecret(decodeURIComponent(userinfo[1]));
      } catch {
        // Not percent-encoded: the raw form is registered already.
      }
    }
  }
}

export function redact(text: string): string {
  let out = text;
  for (const secret of extraSecrets) out = out.split(secret).join('[redacted]');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
