/**
 * What each channel, broker and service needs from the configuration, and what is missing.
 * Pure: reads the config only, so doctor can answer without starting anything.
 */
import type { Config } from '../config/config.js';
import type { VariableName } from '../config/variables.js';

export interface Readiness {
  /** telegram, slack, schwab, ... */
  readonly name: string;
  readonly kind: 'channel' | 'broker' | 'llm';
  /** Everything it needs is set. */
  readonly configured: boolean;
  /** Variables still to set to enable it. */
  readonly missing: readonly VariableName[];
  /** One line for a person. */
  readonly note: string;
}

function entry(
  name: string,
  kind: Readiness['kind'],
  missing: VariableName[],
  readyNote: string,
  missingNote = '',
): Readiness {
  return {
    name,
    kind,
    configured: missing.length === 0,
    missing,
    note:
      missing.length === 0
        ? readyNote
        : `not configured: set ${missing.join(', ')}${missingNote ? ` (${missingNote})` : ''}`,
  };
}

export function readiness(config: Config): Readiness[] {
  const set = (name: VariableName) => config.explicitVariables.has(name);
  const unset = (...names: VariableName[]) => names.filter((name) => !set(name));
  const publicUrl = config.web.publicUrl;
  const slack = config.channels.slack;
  const telegram = config.channels.telegram;
  const discord = config.channels.discord;

  return [
    entry(
      'telegram',
      'channel',
      unset('TELEGRAM_BOT_TOKEN'),
      publicUrl && telegram?.webhookSecret ? `webhook at ${publicUrl}/webhooks/telegram` : 'long polling',
    ),
    entry(
      'slack',
      'channel',
      slack?.socketMode
        ? unset('SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN')
        : unset('SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'),
      slack?.socketMode
        ? 'Socket Mode'
        : `HTTP events, interactivity and slash commands at ${publicUrl ?? 'this server'}/slack/events`,
    ),
    entry(
      'discord',
      'channel',
      unset('DISCORD_BOT_TOKEN', 'DISCORD_APPLICATION_ID'),
      [
        discord?.publicKey ? 'gateway + HTTP interactions at /discord/interactions' : 'gateway',
        discord && discord.traderRoleIds.length === 0
          ? 'DISCORD_TRADER_ROLE_IDS unset: in servers only admins (Manage Server) can trade'
          : '',
      ]
        .filter(Boolean)
        .join('; '),
    ),
    entry('paper', 'broker', [], 'always available; the default for every user'),
    entry(
      'schwab',
      'broker',
      unset('SCHWAB_CLIENT_ID', 'SCHWAB_CLIENT_SECRET'),
      publicUrl || set('SCHWAB_REDIRECT_URI')
        ? 'users link on the linking page (OAuth 2.0)'
        : 'configured, but Schwab requires an https callback: set PUBLIC_URL or SCHWAB_REDIRECT_URI',
      'from your Schwab developer app',
    ),
    entry(
      'etrade',
      'broker',
      unset('ETRADE_CONSUMER_KEY', 'ETRADE_CONSUMER_SECRET'),
      'users link on the linking page (OAuth 1.0a)',
    ),
    entry('alpaca', 'broker', [], 'users enter their own API keys on the linking page'),
    entry(
      'coinbase',
      'broker',
      [],
      config.brokers.coinbase.oauth
        ? 'users enter CDP API keys or sign in with Coinbase (OAuth) on the linking page'
        : 'users enter CDP API keys on the linking page; set COINBASE_OAUTH_CLIENT_ID and COINBASE_OAUTH_CLIENT_SECRET to offer OAuth too',
    ),
    entry(
      'cdp_wallet',
      'broker',
      unset('CDP_API_KEY_ID', 'CDP_API_KEY_SECRET'),
      'smart-account wallets and swaps; the wallet secret comes from the vault (`arbion secrets set cdp-wallet-secret`) or CDP_WALLET_SECRET',
    ),
    entry(
      'openai',
      'llm',
      unset('OPENAI_API_KEY'),
      `natural language through ${config.llm?.model ?? ''} at ${config.llm?.baseUrl ?? ''}`,
      'without it only plain commands such as "buy 10 AAPL" are understood',
    ),
  ];
}
