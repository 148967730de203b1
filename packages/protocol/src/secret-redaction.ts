/**
 * Secrets never shown: credentials in URLs (`https://user:password@host`), `Authorization`-like
 * header values and bearer tokens echoed in a server's error body, and parameter values that look
 * like secrets. Applied to every `BackendError` message, to what the CLI prints, and to run
 * history.
 */

export const REDACTED = '***';

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*(?::[^\s/@]*)?@/gi;
/** `Authorization: Bearer x`, `"authorization": "x"`, `X-Api-Key=x`, `token: x`, ... */
const SECRET_FIELDS =
  /((?:proxy-)?authorization|x-[a-z-]*(?:token|key)|api[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|password|passwd|client[_-]?secret|token|cookie)("?\s*[:=]\s*"?)((?:bearer|basic|token)\s+)?(?!(?:bearer|basic|token)\b)[A-Za-z0-9._~+/=-]{6,}/gi;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/** `text` with credentials in URLs, header-like secret values and bearer tokens replaced. */
export function redactSecrets(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1${REDACTED}@`)
    .replace(SECRET_FIELDS, (_m, name: string, sep: string, scheme: string | undefined) => {
      return `${name}${sep}${scheme ?? ''}${REDACTED}`;
    })
    .replace(BEARER, `$1 ${REDACTED}`);
}

/** A URL as it may be printed: without its user and password. */
export function urlForDisplay(url: string): string {
  return url.replace(URL_CREDENTIALS, '$1');
}

/** Parameter names that say their value is a secret. */
const SECRET_PARAMETER_NAME =
  /(pass(word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)/i;

export function isSecretParameter(name: string, markedSecret: ReadonlySet<string>): boolean {
  return markedSecret.has(name) || SECRET_PARAMETER_NAME.test(name);
}

/**
 * The parameters of a pipeline kept out of run history: names that look secret, and those the
 * notebook lists in `metadata.cellflow.secretParameters`.
 */
export function secretParametersOf(pipeline: {
  readonly notebook: { readonly metadata: Readonly<Record<string, unknown>> };
  readonly graph: { readonly parameters: readonly { readonly name: string }[] };
}): string[] {
  const cellflow = pipeline.notebook.metadata['cellflow'];
  const listed =
    typeof cellflow === 'object' && cellflow !== null
      ? (cellflow as Record<string, unknown>)['secretParameters']
      : undefined;
  const marked = new Set(
    Array.isArray(listed) ? listed.filter((n): n is string => typeof n === 'string') : [],
  );
  return pipeline.graph.parameters.map((p) => p.name).filter((n) => isSecretParameter(n, marked));
}
