/**
 * Which provider URLs we talk to: https only. Plain http is allowed for loopback hosts alone, and
 * only when the caller says so explicitly (tests against the local fake providers); a typo in a
 * production setting can never send client secrets or tokens over plain http to the network.
 */
import { ConfigError } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Parses an endpoint setting and checks its scheme.
 * @throws ConfigError naming the setting when it is not a URL or not allowed
 */
export function checkEndpoint(name: string, value: string, allowInsecureLoopback: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError([`${name}: "${value}" is not a URL`]);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowInsecureLoopback && isLoopbackUrl(url)) return url;
  throw new ConfigError([
    `${name}: ${url.origin} must use https${allowInsecureLoopback ? ' (plain http is allowed for 127.0.0.1 and localhost only)' : ''}`,
  ]);
}
