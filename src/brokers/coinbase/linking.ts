/**
 * How a user links Coinbase Advanced Trade: with a CDP API key (the key's name and its private key,
 * EC P-256 PEM or Ed25519; tried with GET /accounts before anything is stored), and, when this
 * server has a Coinbase OAuth app (COINBASE_OAUTH_CLIENT_ID/SECRET), by signing in at Coinbase
 * (oauth.ts). With both, the sign-in comes first and the key form stays as the alternative.
 */
import { z } from 'zod';
import type { Config } from '../../core/config/config.js';
import type {
  KeyCredentials,
  KeyLinking,
  KeyTestResult,
  LinkableProvider,
} from '../../core/linking/providers.js';
import { probeKeys } from '../key-probe.js';
import { CdpKeyError, importCdpPrivateKey, signCdpRequestJwt } from './cdp-jwt.js';
import { coinbaseOAuthLinking } from './oauth.js';

const accountsResponse = z.object({
  accounts: z.array(z.object({ uuid: z.string(), currency: z.string() })),
});

const keysSchema = z
  .object({
    keyName: z
      .string()
      .trim()
      .regex(
        /^(organizations\/[0-9a-f-]{36}\/apiKeys\/[0-9a-f-]{36}|[0-9a-f-]{36})$/i,
        'The key name looks like organizations/…/apiKeys/… or is the key id (a UUID).',
      ),
    privateKey: z.string().trim().min(1, 'Paste the private key Coinbase showed when you created the key.'),
  })
  .superRefine((value, context) => {
    try {
      importCdpPrivateKey(value.privateKey);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        path: ['privateKey'],
        message:
          error instanceof CdpKeyError && error.problem === 'unsupported_key'
            ? 'Use an ECDSA (P-256) or Ed25519 key; other key types are not supported by Coinbase.'
            : 'This private key cannot be read. Paste it whole, including the BEGIN and END lines for a PEM key.',
      });
    }
  });

export interface CoinbaseLinkingOptions {
  /** The linking site's base URL; without it (no site) only the key form is offered. */
  readonly publicBaseUrl?: string;
  readonly fetch?: typeof fetch;
}

export function coinbaseLinking(config: Config, options: CoinbaseLinkingOptions = {}): LinkableProvider {
  const fetchImpl = options.fetch ?? fetch;
  const keys = coinbaseKeyLinking(config, fetchImpl);
  const client = config.brokers.coinbase.oauth;
  if (client === undefined || options.publicBaseUrl === undefined) {
    return {
      id: 'coinbase',
      name: 'Coinbase',
      description: 'Crypto on Coinbase Advanced Trade, with a CDP API key (trade permission, no transfers).',
      linking: keys,
    };
  }
  return {
    id: 'coinbase',
    name: 'Coinbase',
    description:
      'Crypto on Coinbase Advanced Trade. Sign in at Coinbase (Arbion never sees your password), or use a CDP API key (trade permission, no transfers).',
    linking: coinbaseOAuthLinking(config, client, options.publicBaseUrl, fetchImpl),
    alternatives: [keys],
  };
}

function coinbaseKeyLinking(config: Config, fetchImpl: typeof fetch): KeyLinking {
  const apiBase = config.brokers.coinbase.apiBase;
  return {
    kind: 'keys',
    fields: [
      {
        name: 'keyName',
        label: 'API key name',
        kind: 'text',
        placeholder: 'organizations/…/apiKeys/…',
        help: 'Shown in the Coinbase Developer Platform when you create the key.',
      },
      {
        name: 'privateKey',
        label: 'Private key',
        kind: 'multiline-secret',
        placeholder: '-----BEGIN EC PRIVATE KEY-----',
        help: 'Stored encrypted; never shown again.',
      },
    ],
    schema: keysSchema,
    async test(credentials: KeyCredentials): Promise<KeyTestResult> {
      const { keyName, privateKey } = keysSchema.parse(credentials);
      const url = new URL(`${apiBase}/api/v3/brokerage/accounts`);
      const jwt = await signCdpRequestJwt({ name: keyName, privateKey }, { method: 'GET', url });
      url.searchParams.set('limit', '1');
      return probeKeys({
        broker: 'Coinbase',
        url,
        headers: { authorization: `Bearer ${jwt}` },
        response: accountsResponse,
        rejectedMessage:
          'Coinbase did not accept this key. Check the key name and that the key is not expired or deleted.',
        describe: () => 'Key accepted by Coinbase.',
        fetch: fetchImpl,
      });
    },
    mask(credentials: KeyCredentials): string {
      const name = credentials.keyName ?? '';
      return `…${name.slice(-8)}`;
    },
  };
}
