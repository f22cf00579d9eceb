/**
 * Renders the core's outbound messages as Slack Block Kit. Pure: no I/O, testable with values.
 * Core text is plain text, so everything shown as mrkdwn is escaped first.
 */
import type { types } from '@slack/bolt';
import type { Card, CardAction, OutboundMessage } from '../../core/messages.js';

/** A Block Kit block as we build it (a subset of `KnownBlock`). */
export type SlackBlock = types.KnownBlock;

/** Slack's limits (https://docs.slack.dev/reference/block-kit): longer values are rejected. */
const HEADER_MAX = 150;
const BUTTON_TEXT_MAX = 75;
const FIELD_TEXT_MAX = 2000;
const FIELDS_PER_SECTION = 10;

/** Prefix of the header block id; the rest is the card's message id for ephemeral cards. */
export const CARD_BLOCK_PREFIX = 'card:';
/** Prefix of the actions block id, likewise. */
export const ACTIONS_BLOCK_PREFIX = 'actions:';

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Undoes Slack's escaping of user-typed text (events and slash commands arrive escaped). */
export function unescapeSlackText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function verbOf(action: CardAction): string {
  return action.id.split(':')[0] ?? '';
}

function button(action: CardAction): types.Button {
  const verb = verbOf(action);
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncate(action.label, BUTTON_TEXT_MAX) },
    // The action id is opaque and client-controlled; the core authorizes it against its state.
    action_id: action.id,
    value: action.id,
    ...(action.style === 'default' ? {} : { style: action.style }),
    // A second look before money moves: Slack shows this dialog before sending the press.
    ...(verb === 'confirm' || verb === 'approve'
      ? {
          confirm: {
            title: {
              type: 'plain_text',
              text: verb === 'confirm' ? 'Place this order?' : 'Approve this order?',
            },
            text: { type: 'plain_text', text: 'Orders are sent to the broker at once.' },
            confirm: { type: 'plain_text', text: action.label.slice(0, 30) },
            deny: { type: 'plain_text', text: 'Back' },
          },
        }
      : {}),
  };
}

/**
 * A card: header, PAPER/LIVE badge, the order fields, the notice and the buttons. `blockKey`, when
 * given, is written into the block ids so a press on an ephemeral card (which has no message ts
 * of ours) names the card it came from.
 */
export function renderCardBlocks(card: Card, blockKey?: string): SlackBlock[] {
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      ...(blockKey ? { block_id: `${CARD_BLOCK_PREFIX}${blockKey}` } : {}),
      text: { type: 'plain_text', text: truncate(card.title, HEADER_MAX) },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text:
            card.badge === 'LIVE'
              ? ':red_circle: *LIVE* account (real money)'
              : ':white_circle: *PAPER* account',
        },
      ],
    },
  ];
  for (let start = 0; start < card.fields.length; start += FIELDS_PER_SECTION) {
    blocks.push({
      type: 'section',
      fields: card.fields.slice(start, start + FIELDS_PER_SECTION).map((field) => ({
        type: 'mrkdwn',
        text: truncate(`*${escapeMrkdwn(field.label)}*\n${escapeMrkdwn(field.value)}`, FIELD_TEXT_MAX),
      })),
    });
  }
  if (card.notice) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(card.notice) }] });
  }
  if (card.actions.length > 0) {
    blocks.push({
      type: 'actions',
      ...(blockKey ? { block_id: `${ACTIONS_BLOCK_PREFIX}${blockKey}` } : {}),
      elements: card.actions.map(button),
    });
  }
  return blocks;
}

/** The notification/fallback text of a card (screen readers, push notifications). */
export function cardFallbackText(card: Card): string {
  const fields = card.fields.map((field) => `${field.label}: ${field.value}`).join(', ');
  return escapeMrkdwn(`[${card.badge}] ${card.title}${fields ? ` (${fields})` : ''}`);
}

/** What a message becomes on Slack: `text` always (escaped), `blocks` for cards. */
export function renderMessage(
  message: OutboundMessage,
  blockKey?: string,
): { text: string; blocks?: SlackBlock[] } {
  if (message.kind === 'text') return { text: escapeMrkdwn(message.text) };
  return { text: cardFallbackText(message.card), blocks: renderCardBlocks(message.card, blockKey) };
}
