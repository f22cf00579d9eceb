/**
 * Plain-text rendering of core messages for a terminal.
 */
import type { Card, OutboundMessage } from '../../core/messages.js';

export function renderCard(card: Card, cardNumber: number): string {
  const width = Math.max(40, ...card.fields.map((field) => field.label.length + field.value.length + 6));
  const header = `┌─ ${card.badge} ─ ${card.title} `;
  const lines = [header + '─'.repeat(Math.max(0, width - header.length))];
  const labelWidth = Math.max(...card.fields.map((field) => field.label.length));
  for (const field of card.fields) lines.push(`│ ${field.label.padEnd(labelWidth)}  ${field.value}`);
  if (card.notice) lines.push(`│ ${card.notice}`);
  const buttons = card.actions.map((action) => `[${action.label.toLowerCase()}]`).join(' or ');
  lines.push(`└─ card #${cardNumber}${buttons ? `: type ${buttons}` : ''}`);
  return lines.join('\n');
}

export function renderMessage(message: OutboundMessage, cardNumber: number): string {
  return message.kind === 'text' ? message.text : renderCard(message.card, cardNumber);
}
