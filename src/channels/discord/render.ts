/**
 * Core messages as Discord message bodies: cards as an embed (badge, title, fields, notice in the
 * footer) plus a row of buttons whose custom_id is our action id; text escaped and split at
 * Discord's 2000-character limit. Nobody is ever pinged by what we post.
 */
import { escapeMarkdown } from 'discord.js';
import type { Card, CardAction } from '../../core/messages.js';

export const MAX_CONTENT = 2000;
const MAX_TITLE = 256;
const MAX_FIELDS = 25;
const MAX_FIELD_NAME = 256;
const MAX_FIELD_VALUE = 1024;
const MAX_FOOTER = 2048;
const MAX_LABEL = 80;
const BUTTONS_PER_ROW = 5;
const MAX_ROWS = 5;
/** An empty field name or value is rejected; a zero-width space shows as nothing. */
const BLANK = '\u200b';

const COLOR = { PAPER: 0x5865f2, LIVE: 0xed4245 } as const;
const BUTTON_STYLE: Record<CardAction['style'], number> = { primary: 1, default: 2, danger: 4 };

/** A create/edit message body (the subset we send). */
export interface MessageBody {
  content?: string;
  embeds?: Record<string, unknown>[];
  components?: Record<string, unknown>[];
  flags?: number;
  allowed_mentions?: { parse: string[] };
}

const NO_PINGS = { parse: [] };

/** Escapes everything Discord would read as markdown, so text shows as the core wrote it. */
export function escapeText(text: string): string {
  return escapeMarkdown(text, { heading: true, bulletedList: true, numberedList: true, maskedLink: true });
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function renderCard(card: Card): MessageBody {
  const rows: Record<string, unknown>[] = [];
  for (let start = 0; start < card.actions.length && rows.length < MAX_ROWS; start += BUTTONS_PER_ROW) {
    rows.push({
      type: 1,
      components: card.actions.slice(start, start + BUTTONS_PER_ROW).map((action) => ({
        type: 2,
        style: BUTTON_STYLE[action.style],
        label: clip(action.label, MAX_LABEL),
        custom_id: action.id,
      })),
    });
  }
  const embed: Record<string, unknown> = {
    author: { name: `${card.badge} account` },
    title: clip(escapeText(card.title), MAX_TITLE),
    color: COLOR[card.badge],
    fields: card.fields.slice(0, MAX_FIELDS).map((field) => ({
      name: clip(escapeText(field.label), MAX_FIELD_NAME) || BLANK,
      value: clip(escapeText(field.value), MAX_FIELD_VALUE) || BLANK,
      inline: false,
    })),
  };
  // Footers show plain text: no markdown to escape.
  if (card.notice) embed.footer = { text: clip(card.notice, MAX_FOOTER) };
  return { content: '', embeds: [embed], components: rows, allowed_mentions: NO_PINGS };
}

/** Escaped text in pieces of at most 2000 characters, cut at line breaks where possible. */
export function renderText(text: string): MessageBody[] {
  const escaped = escapeText(text) || BLANK;
  const pieces: string[] = [];
  let rest = escaped;
  while (rest.length > MAX_CONTENT) {
    let cut = rest.lastIndexOf('\n', MAX_CONTENT);
    if (cut < MAX_CONTENT / 2) cut = MAX_CONTENT;
    // Never split an escape from the character it escapes.
    while (cut > 1 && rest[cut - 1] === '\\') cut--;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  pieces.push(rest);
  return pieces.map((content) => ({ content, allowed_mentions: NO_PINGS }));
}

/** An edit that turns a message into text (no embed, no buttons). */
export function renderTextEdit(text: string): MessageBody {
  const first = renderText(text)[0]?.content ?? BLANK;
  return { content: first, embeds: [], components: [], allowed_mentions: NO_PINGS };
}
