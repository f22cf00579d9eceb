/**
 * Two independent RFC 5849 implementations must agree: the fake's own (checked here against the
 * RFC's worked examples) and the oauth-1.0a package behind our OAuth1Signer.
 */
import { describe, expect, it } from 'vitest';
import { OAuth1Signer } from '../../src/core/oauth/index.js';
import {
  baseStringUri,
  hmacSha1Signature,
  type Parameter,
  parseAuthorizationHeader,
  parseFormEncoded,
  percentEncode,
  signatureBaseString,
} from '../fakes/oauth1-provider/rfc5849.js';

describe("the fake's RFC 5849 implementation", () => {
  it('builds the base string of RFC 5849 section 3.4.1.1 (query, form body, header; duplicates, + and %)', () => {
    const query = parseFormEncoded('b5=%3D%253D&a3=a&c%40=&a2=r%20b');
    const form = parseFormEncoded('c2&a3=2+q');
    const header = parseAuthorizationHeader(
      'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", ' +
        'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", ' +
        'oauth_signature="djosJKDKJSD8743243%2Fjdk33klY%3D"',
    );
    expect(header).toBeDefined();
    const signed = [
      ...query,
      ...form,
      ...(header ?? []).filter(([name]) => name !== 'realm' && name !== 'oauth_signature'),
    ];
    expect(signatureBaseString('POST', baseStringUri('http', 'example.com', '/request'), signed)).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('reproduces the HMAC-SHA1 signature of the RFC 5849 section 1.2 example', () => {
    const parameters: Parameter[] = [
      ...parseFormEncoded('file=vacation.jpg&size=original'),
      ['oauth_consumer_key', 'dpf43f3p2l4k3l03'],
      ['oauth_token', 'nnch734d00sl2jdk'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131202'],
      ['oauth_nonce', 'chapoH'],
    ];
    const base = signatureBaseString(
      'GET',
      baseStringUri('HTTP', 'Photos.Example.NET:80', '/photos'),
      parameters,
    );
    expect(hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe(
      'MdpQcU8iPSUjWoN/UDMsK2sui9I=',
    );
  });

  it('percent-encodes UTF-8 bytes and leaves only the unreserved set alone', () => {
    expect(percentEncode('a-._~ *+/=!☃')).toBe('a-._~%20%2A%2B%2F%3D%21%E2%98%83');
    expect(baseStringUri('https', 'api.etrade.com:443', '/oauth/request_token')).toBe(
      'https://api.etrade.com/oauth/request_token',
    );
  });
});

describe('OAuth1Signer (oauth-1.0a) against the fake implementation', () => {
  const consumer = { consumerKey: 'key+with/odd=chars', consumerSecret: 'secret&with spaces' };
  const tokens = { token: 'tok+en/==', tokenSecret: 'sec+ret/==' };
  const clock = () => new Date('2025-03-03T15:00:00Z');

  const cases: {
    name: string;
    method: string;
    url: string;
    extra?: Record<string, string>;
    form?: string;
  }[] = [
    {
      name: 'no query',
      method: 'GET',
      url: 'https://api.example.com/oauth/access_token',
      extra: { oauth_verifier: 'AB12C' },
    },
    {
      name: 'query with spaces as +, repeated keys and unicode',
      method: 'GET',
      url: 'https://api.example.com/v1/market/quote/AAPL,MSFT?detailFlag=ALL&x=a+b&x=%2B&u=%E2%98%83',
    },
    {
      name: 'a form body',
      method: 'POST',
      url: 'https://api.example.com/v1/thing?z=1',
      form: 'a=1&b=two+words&b=%26',
    },
    {
      name: 'oob callback',
      method: 'GET',
      url: 'http://127.0.0.1:8080/oauth/request_token',
      extra: { oauth_callback: 'oob' },
    },
  ];

  for (const testCase of cases) {
    it(`produces a signature the fake verifies: ${testCase.name}`, () => {
      const signer = new OAuth1Signer(consumer, clock);
      const url = new URL(testCase.url);
      const form = testCase.form === undefined ? undefined : new URLSearchParams(testCase.form);
      const header = signer.authorization(testCase.method, url, tokens, testCase.extra ?? {}, form);
      const parameters = parseAuthorizationHeader(header);
      expect(parameters).toBeDefined();
      const oauth = new Map(parameters);
      expect(oauth.get('oauth_timestamp')).toBe(String(Date.parse('2025-03-03T15:00:00Z') / 1000));
      expect(oauth.get('oauth_token')).toBe(tokens.token);
      for (const [name, value] of Object.entries(testCase.extra ?? {})) expect(oauth.get(name)).toBe(value);
      const signed = [
        ...parseFormEncoded(url.search.slice(1)),
        ...parseFormEncoded(testCase.form ?? ''),
        ...(parameters ?? []).filter(([name]) => name !== 'oauth_signature' && name !== 'realm'),
      ];
      const base = signatureBaseString(
        testCase.method,
        baseStringUri(url.protocol.slice(0, -1), url.host, url.pathname),
        signed,
      );
      expect(oauth.get('oauth_signature')).toBe(
        hmacSha1Signature(base, consumer.consumerSecret, tokens.tokenSecret),
      );
    });
  }

  it('uses a fresh random nonce per request', () => {
    const signer = new OAuth1Signer(consumer, clock);
    const url = new URL('https://api.example.com/x');
    const nonces = new Set(
      Array.from({ length: 50 }, () =>
        new Map(parseAuthorizationHeader(signer.authorization('GET', url, tokens))).get('oauth_nonce'),
      ),
    );
    expect(nonces.size).toBe(50);
  });
});
