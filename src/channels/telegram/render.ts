/**
 * The core's outbound messages as Telegram HTML (`parse_mode: "HTML"`). Every piece of text from the
 * core or from users (symbols, names, notices) is escaped; only our own tags are markup.
 */
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Card } from '../../core/messages.js';

/** Telegram's limit on a message's text after entity parsing (what the user sees). */
export const TELEGRAM_TEXT_LIMIT = 4096;

/** Escapes the three characters Telegram's HTML mode reserves (and quotes, for attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Card as HTML: bold badge and title, one line per field, the notice in italics. */
export function renderCardHtml(card: Card): string {
  const lines = [`<b>${card.badge}</b> · <b>${escapeHtml(card.title)}</b>`];
  for (const field of card.fields) lines.push(`${escapeHtml(field.label)}: ${escapeHtml(field.value)}`);
  if (card.notice) lines.push('', `<i>${escapeHtml(card.notice)}</i>`);
  return lines.join('\n');
}

/** One row of buttons; callback_data carries the core's opaque action id untouched. */
export function cardKeyboard(card: Card): InlineKeyboardMarkup {
  if (card.actions.length === 0) return { inline_keyboard: [] };
  return {
    inline_keyboard: [card.actions.map((action) => ({ text: action.label, callback_data: action.id }))],
  };
}

/**
 * Splits plain text into pieces of at most `limit` characters, at line breaks where it can (a
 * single longer line is cut). Empty pieces are dropped: Telegram refuses empty messages.
 */
export function splitText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const pieces: string[] = [];
  let current = '';
  const flush = () => {
    // Line breaks at a cut would only be trimmed by Telegram.
    const piece = current.replace(/\n+$/, '');
    if (piece.trim() !== '') pieces.push(piece);
    current = '';
  };
  for (const line of text.split('\n')) {
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (candidate.length <= limit) {
      current = candidate;
      continue;
    }
    flush();
    let rest = line;
    while (rest.length > limit) {
      // Never cut a surrogate pair in half.
      let cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--;
      pieces.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    current = rest;
  }
  flush();
  return pieces;
}

/** Plain text shortened to Telegram's limit (for edits, which cannot be split). */
export function clampText(text: string, limit = TELEGRAM_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
