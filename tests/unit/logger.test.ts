import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, createScrubber } from '../../src/core/logging/logger.js';

function memoryLogger(secretValues: string[], format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ level: 'trace', format, secretValues, destination });
  return { logger, output: () => lines.join('') };
}

const TELEGRAM_TOKEN = '7123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0';
const CONFIGURED_SECRET = 'my-very-own-schwab-app-secret';

describe('logger redaction', () => {
  it('removes secret-named fields at any of the first levels', () => {
    const { logger, output } = memoryLogger([]);
    logger.info(
      {
        userId: 'u-1',
        password: 'p1',
        token: 'p2',
        connection: { accessToken: 'p3', refresh_token: 'p4', provider: 'schwab' },
        req: { headers: { authorization: 'p5', cookie: 'p6', 'x-slack-signature': 'p7', accept: 'json' } },
      },
      'linked',
    );
    const line = JSON.parse(output()) as Record<string, unknown>;
    expect(output()).not.toMatch(/"p[1-7]"/);
    expect(line.userId).toBe('u-1');
    expect(line.connection).toEqual({
      accessToken: '[REDACTED]',
      refresh_token: '[REDACTED]',
      provider: 'schwab',
    });
    expect((line.req as { headers: Record<string, string> }).headers.accept).toBe('json');
  });

  it('scrubs configured secret values and token shapes from messages, nested fields and errors', () => {
    const { logger, output } = memoryLogger([CONFIGURED_SECRET, 'a b/c+d=e-f-g-secret']);
    const error = new Error(`POST https://api.telegram.org/bot${TELEGRAM_TOKEN}/sendMessage failed`);
    logger.error(
      { err: error, detail: { deep: { deeper: [`secret=${CONFIGURED_SECRET}`] } } },
      `using ${CONFIGURED_SECRET}`,
    );
    logger.warn(`Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature and xoxb-1234-5678-abcdefghij`);
    logger.info(
      { url: `https://x.test/cb?secret=${encodeURIComponent('a b/c+d=e-f-g-secret')}` },
      'callback',
    );
    const text = output();
    expect(text).not.toContain(CONFIGURED_SECRET);
    expect(text).not.toContain('e-f-g-secret');
    expect(text).not.toContain(TELEGRAM_TOKEN);
    expect(text).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(text).not.toContain('xoxb-1234');
    expect(text).toContain('sendMessage failed');
    expect(text.match(/\[REDACTED\]/g)?.length).toBeGreaterThanOrEqual(5);
  });

  it('scrubs in pretty output too', () => {
    const { logger, output } = memoryLogger([CONFIGURED_SECRET], 'pretty');
    logger.info({ note: CONFIGURED_SECRET }, `hello ${CONFIGURED_SECRET}`);
    expect(output()).toContain('hello [REDACTED]');
    expect(output()).not.toContain(CONFIGURED_SECRET);
  });

  it('child loggers keep ids and redaction', () => {
    const { logger, output } = memoryLogger([CONFIGURED_SECRET]);
    logger.child({ userId: 'u-7', intentId: 'i-9' }).info({ apiKey: 'zzz' }, CONFIGURED_SECRET);
    const line = JSON.parse(output()) as Record<string, unknown>;
    expect(line).toMatchObject({ userId: 'u-7', intentId: 'i-9', apiKey: '[REDACTED]', msg: '[REDACTED]' });
  });
});

describe('scrubber', () => {
  it('replaces the longer of two overlapping secrets whole and survives cycles', () => {
    const scrub = createScrubber(['abcdef', 'abcdefghij']);
    const cyclic: Record<string, unknown> = { text: 'x abcdefghij y abcdef' };
    cyclic.self = cyclic;
    expect(scrub(cyclic)).toEqual({ text: 'x [REDACTED] y [REDACTED]', self: '[Circular]' });
  });

  it('removes private keys', () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----';
    expect(createScrubber([])(`key: ${pem}`)).toBe('key: [REDACTED]');
  });
});
