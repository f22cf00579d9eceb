/**
 * Arbion's slash commands: their registration payload and the text each one stands for. The core
 * parses text either way, so a command is only a typed shortcut for a message.
 */
import type { CommandOption } from './payloads.js';

const STRING_OPTION = 3;
/** Guild channels and the bot's DMs. */
const CONTEXTS = [0, 1];
const GUILD_INSTALL = [0];

/** The payload of `PUT /applications/{app}/commands` (a bulk overwrite, so stale commands vanish). */
export const SLASH_COMMANDS = [
  {
    name: 'trade',
    description: 'Tell Arbion what to do, e.g. "buy 10 AAPL" or "sell half my TSLA".',
    options: [
      {
        type: STRING_OPTION,
        name: 'text',
        description: 'What you want, in plain words.',
        required: true,
        max_length: 500,
      },
    ],
  },
  {
    name: 'quote',
    description: 'Latest bid and ask for a ticker.',
    options: [
      {
        type: STRING_OPTION,
        name: 'symbol',
        description: 'Ticker or name, e.g. AAPL.',
        required: true,
        autocomplete: true,
        max_length: 80,
      },
    ],
  },
  { name: 'positions', description: 'Your open positions.' },
  { name: 'balance', description: 'Cash and buying power.' },
  { name: 'orders', description: 'Your open orders.' },
  {
    name: 'link',
    description: 'Link this chat to your Arbion account, or link a broker.',
    options: [
      {
        type: STRING_OPTION,
        name: 'target',
        description: '"chat" (default) or a broker, e.g. schwab.',
        required: false,
        max_length: 40,
      },
    ],
  },
  { name: 'help', description: 'What Arbion understands.' },
].map((command) => ({ ...command, contexts: CONTEXTS, integration_types: GUILD_INSTALL }));

function optionValue(options: readonly CommandOption[] | undefined, name: string): string | undefined {
  const value = options?.find((option) => option.name === name)?.value;
  return typeof value === 'string' ? value.trim() : undefined;
}

/** The message a slash command stands for; undefined for a command we do not know. */
export function commandText(name: string, options: readonly CommandOption[] | undefined): string | undefined {
  switch (name) {
    case 'trade':
      return optionValue(options, 'text') || 'help';
    case 'quote': {
      const symbol = optionValue(options, 'symbol');
      return symbol ? `quote ${symbol}` : 'help';
    }
    case 'positions':
    case 'balance':
    case 'orders':
    case 'help':
      return name;
    case 'link':
      return `link ${optionValue(options, 'target') || 'chat'}`;
    default:
      return undefined;
  }
}
