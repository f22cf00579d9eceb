/**
 * How a user links Alpaca: an API key id and secret from Alpaca's dashboard, for its paper
 * (Alpaca's own sandbox) or live environment. The keys are tried with GET /v2/account before
 * anything is stored.
 */
import { z } from 'zod';
import type { Config } from '../../core/config/config.js';
import type { KeyCredentials, KeyTestResult, LinkableProvider } from '../../core/linking/providers.js';
import { probeKeys } from '../key-probe.js';

const accountResponse = z.object({ account_number: z.string(), status: z.string() });

const keysSchema = z.object({
  environment: z.enum(['paper', 'live'], { error: 'Choose paper or live.' }),
  keyId: z
    .string()
    .trim()
    .regex(
      /^[A-Z0-9]{16,64}$/,
      'An Alpaca key id is 16 or more capital letters and digits, like PK1A2B3C4D5E6F7G8H9J.',
    ),
  secretKey: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9/+=_-]{20,128}$/,
      'The secret key is the long value Alpaca showed once next to the key id.',
    ),
});

export function alpacaLinking(config: Config, fetchImpl: typeof fetch = fetch): LinkableProvider {
  const hosts = { paper: config.brokers.alpaca.paperApiBase, live: config.brokers.alpaca.liveApiBase };
  return {
    id: 'alpaca',
    name: 'Alpaca',
    description: 'US stocks and ETFs through API keys, with a free paper environment.',
    linking: {
      kind: 'keys',
      fields: [
        {
          name: 'environment',
          label: 'Environment',
          kind: 'select',
          options: [
            { value: 'paper', label: 'Paper (Alpaca sandbox)' },
            { value: 'live', label: 'Live (real money)' },
          ],
          help: 'Paper keys only work on paper, live keys only on live.',
        },
        {
          name: 'keyId',
          label: 'API key id',
          kind: 'text',
          placeholder: 'PK…',
          help: 'From the API keys panel of your Alpaca dashboard.',
        },
        {
          name: 'secretKey',
          label: 'Secret key',
          kind: 'secret',
          help: 'Stored encrypted; never shown again.',
        },
      ],
      schema: keysSchema,
      async test(credentials: KeyCredentials): Promise<KeyTestResult> {
        const { environment, keyId, secretKey } = keysSchema.parse(credentials);
        return probeKeys({
          broker: 'Alpaca',
          url: `${hosts[environment]}/v2/account`,
          headers: { 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secretKey },
          response: accountResponse,
          rejectedMessage: `Alpaca did not accept these keys. Check that they are ${environment} keys and were copied whole.`,
          describe: (account) =>
            `Account ••${account.account_number.slice(-4)} (${account.status.toLowerCase()}).`,
          fetch: fetchImpl,
        });
      },
      mask(credentials: KeyCredentials): string {
        const keyId = credentials.keyId ?? '';
        return `${keyId.slice(0, 2)}••••${keyId.slice(-4)} · ${credentials.environment ?? 'paper'}`;
      },
    },
  };
}
