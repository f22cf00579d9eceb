/**
 * The core's message types, independent of every chat platform. Channel adapters translate their
 * platform's events into these and render these back; the core never imports a chat library.
 */
import type { Platform } from './db/generated/enums.js';

export type { Platform };

/** Where a conversation happens: enough to answer there and to edit an earlier message. */
export interface ChannelAddress {
  readonly platform: Platform;
  /** Slack team, Discord guild; empty where the platform has none (Telegram, console). */
  readonly workspaceId: string;
  readonly chatId: string;
  readonly threadId?: string;
}

/** Who sent an inbound message or pressed a button, as the platform identifies them. */
export interface Sender {
  readonly platformUserId: string;
  readonly displayName?: string;
}

interface InboundBase {
  /** Platform delivery id (Telegram update_id, Slack event_id, ...): processed at most once. */
  readonly deliveryId: string;
  readonly address: ChannelAddress;
  readonly sender: Sender;
  readonly receivedAt: Date;
}

/** Text the user wrote. */
export interface InboundText extends InboundBase {
  readonly kind: 'text';
  readonly messageId: string;
  readonly text: string;
}

/** A button press on one of our cards. `actionId` is client-controlled: authorize it against server state. */
export interface InboundAction extends InboundBase {
  readonly kind: 'action';
  /** The card's message id. */
  readonly messageId: string;
  readonly actionId: string;
}

export type InboundMessage = InboundText | InboundAction;

export interface CardField {
  readonly label: string;
  readonly value: string;
}

export interface CardAction {
  /** Opaque, at most 64 bytes (Telegram callback_data). */
  readonly id: string;
  readonly label: string;
  readonly style: 'primary' | 'danger' | 'default';
}

/** A confirmation card: the exact order, and buttons until it is answered or expires. */
export interface Card {
  readonly title: string;
  /** PAPER or LIVE, shown prominently by every channel. */
  readonly badge: 'PAPER' | 'LIVE';
  readonly fields: readonly CardField[];
  /** A line under the fields: warnings, expiry. */
  readonly notice?: string;
  /** Empty once answered or expired: channels remove the buttons. */
  readonly actions: readonly CardAction[];
}

export type OutboundMessage =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'card'; readonly card: Card };

/** What the core asks of a channel. */
export interface ChannelPort {
  /** Posts a message; returns the platform's id for it (to edit it later). */
  send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }>;
  /** Replaces an earlier message (card state changes). */
  edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void>;
  /** Tells one person something others in the chat should not see (ephemeral, alert, DM). */
  notify(address: ChannelAddress, recipient: Sender, text: string): Promise<void>;
}

/** Button ids: `<verb>:<intent id>`. */
export const ACTION_CONFIRM = 'confirm';
export const ACTION_CANCEL = 'cancel';

export function actionId(verb: typeof ACTION_CONFIRM | typeof ACTION_CANCEL, intentId: string): string {
  return `${verb}:${intentId}`;
}

const ACTION_PATTERN = /^(confirm|cancel):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Parses a button id; undefined for anything we did not issue in that form (forged or stale). */
export function parseActionId(id: string): { verb: 'confirm' | 'cancel'; intentId: string } | undefined {
  const match = ACTION_PATTERN.exec(id);
  if (!match?.[1] || !match[2]) return undefined;
  return { verb: match[1] as 'confirm' | 'cancel', intentId: match[2] };
}
