/**
 * Plain-text rendering of core messages for a terminal. A card ends with the words that answer it
 * ("type [confirm #12] or [cancel #12]"): its buttons' labels, which name the card's number.
 */
import type { Card, OutboundMessage } from '../../core/messages.js';

export function renderCard(card: Card): string {
  const width = Math.max(40, ...card.fields.map((field) => field.label.length + field.value.length + 6));
  const header = `┌─ ${card.badge} ─ ${card.title} `;
  const lines = [header + '─'.repeat(Math.max(0, width - header.length))];
  const labelWidth = Math.max(...card.fields.map((field) => field.label.length));
  for (const field of card.fields) lines.push(`│ ${field.label.padEnd(labelWidth)}  ${field.value}`);
  if (card.notice) lines.push(`│ ${card.notice}`);
  const buttons = card.actions.map((action) => `[${action.label.toLowerCase()}]`).join(' or ');
  const name = card.number === undefined ? 'card' : `card #${card.number}`;
  lines.push(`└─ ${name}${buttons ? `: type ${buttons}` : ''}`);
  return lines.join('\n');
}

export function renderMessage(message: OutboundMessage): string {
  return message.kind === 'text' ? message.text : renderCard(message.card);
}
