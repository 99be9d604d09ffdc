// Secrets never reach a terminal or a log (threat 4): `config check` prints the resolved config
// through maskSecrets. Tokens and passwords are replaced; URLs keep only scheme and host, because
// push-monitor URLs and ntfy topics carry their secret in the path or the query.
const SECRET_KEY = /(token|password|passphrase|secret|apikey|api_key)$/i;
/** A key that names where a secret is (tokenFile, keyFile) is a path, not the secret: printable. */
const SECRET_LOCATION = /(file|path|dir)$/i;

export const MASK = '***';

export function maskSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && !SECRET_LOCATION.test(key)) return value === '' ? value : MASK;
    return maskUrl(value);
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  return value;
}

/** 'https://user:pw@kuma.example/api/push/abc?status=up' -> 'https://***@kuma.example/***?***'. */
export function maskUrl(text: string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  const auth = url.username || url.password ? `${MASK}@` : '';
  const pathPart = url.pathname && url.pathname !== '/' ? `/${MASK}` : '';
  const query = url.search ? `?${MASK}` : '';
  return `${url.protocol}//${auth}${url.host}${pathPart}${query}`;
}
