/**
 * RFC 5849 (OAuth 1.0) signature checking, written from the RFC for the fake provider and on
 * purpose sharing no code with the oauth-1.0a package the client signs with: a bug in one
 * implementation of the base string cannot then hide on both sides of the test.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Parameter = readonly [name: string, value: string];

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** RFC 5849 3.6: every byte of the UTF-8 form except ALPHA, DIGIT, '-', '.', '_', '~' as %XX (upper case). */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes %XX sequences (as UTF-8); `plusIsSpace` for application/x-www-form-urlencoded text. */
export function percentDecode(value: string, plusIsSpace: boolean): string {
  const text = plusIsSpace ? value.replaceAll('+', ' ') : value;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (char === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 5849 3.4.1.3.1: a query or form body as name/value pairs, in order, duplicates kept. */
export function parseFormEncoded(text: string): Parameter[] {
  if (text === '') return [];
  return text
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const at = part.indexOf('=');
      const name = at === -1 ? part : part.slice(0, at);
      const value = at === -1 ? '' : part.slice(at + 1);
      return [percentDecode(name, true), percentDecode(value, true)] as const;
    });
}

/**
 * RFC 5849 3.5.1: the parameters of an `Authorization: OAuth ...` header (realm included), or
 * undefined when the header is not OAuth or not well formed.
 */
export function parseAuthorizationHeader(header: string | undefined): Parameter[] | undefined {
  if (header === undefined || !/^OAuth\s+/i.test(header)) return undefined;
  const body = header.replace(/^OAuth\s+/i, '').trim();
  const parameters: Parameter[] = [];
  for (const item of body.split(',')) {
    const match = /^\s*([A-Za-z0-9\-._~%]+)="([^"]*)"\s*$/.exec(item);
    if (match === null) return undefined;
    parameters.push([percentDecode(match[1] ?? '', false), percentDecode(match[2] ?? '', false)]);
  }
  return parameters;
}

/** RFC 5849 3.4.1.2: scheme and host in lower case, the port only when it is not the default. */
export function baseStringUri(scheme: string, host: string, path: string): string {
  const lowerScheme = scheme.toLowerCase();
  const [hostname, port] = host.toLowerCase().split(/:(?=\d+$)/);
  const defaultPort = lowerScheme === 'https' ? '443' : '80';
  const authority = port === undefined || port === defaultPort ? (hostname ?? '') : `${hostname}:${port}`;
  return `${lowerScheme}://${authority}${path === '' ? '/' : path}`;
}

/** RFC 5849 3.4.1.3.2: encode, sort by name then value, join. */
export function normalizeParameters(parameters: readonly Parameter[]): string {
  return parameters
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) =>
      nameA === nameB ? compareBytes(valueA, valueB) : compareBytes(nameA, nameB),
    )
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** RFC 5849 3.4.1.1. `parameters` excludes oauth_signature and realm. */
export function signatureBaseString(method: string, uri: string, parameters: readonly Parameter[]): string {
  return [method.toUpperCase(), percentEncode(uri), percentEncode(normalizeParameters(parameters))].join('&');
}

/** RFC 5849 3.4.2: base64 HMAC-SHA1 keyed with the encoded consumer secret & token secret. */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}

export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function compareBytes(a: string, b: string): number {
  // Encoded strings are ASCII, so code unit order is byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}
