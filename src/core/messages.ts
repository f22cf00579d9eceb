/**
 * The core's message types, independent of every chat platform. Channel adapters translate their
 * platform's events into these and render these back; the core never imports a chat library.
 */
import type { Platform, WorkspaceRole } from './db/generated/enums.js';

export type { Platform, WorkspaceRole };

/** Where a conversation happens: enough to answer there and to edit an earlier message. */
export interface ChannelAddress {
  readonly platform: Platform;
  /** Slack team, Discord guild; empty where the platform has none (Telegram, console). */
  readonly workspaceId: string;
  readonly chatId: string;
  readonly threadId?: string;
  /**
   * Adapter-private, short-lived context for answering one delivery (a Discord interaction, a
   * Slack response_url). The core passes it back untouched and never stores it.
   */
  readonly replyHandle?: string;
}

/** Who sent an inbound message or pressed a button, as the platform identifies them. */
export interface Sender {
  readonly platformUserId: string;
  readonly displayName?: string;
  /**
   * The member's role as the platform itself vouches for it (Discord guild roles mapped by
   * configuration). Absent: the roles stored for the workspace apply.
   */
  readonly platformRole?: WorkspaceRole;
}

interface InboundBase {
  /** Platform delivery id (Telegram update_id, Slack event_id, ...): processed at most once. */
  readonly deliveryId: string;
  readonly address: ChannelAddress;
  readonly sender: Sender;
  readonly receivedAt: Date;
  /** `direct`: a one-to-one chat with the bot. `group`: others in the chat can read and press. */
  readonly chatType: 'direct' | 'group';
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
  /**
   * The requester's number for the card ("Card #12"), which typed answers name ("confirm 12");
   * the title and the buttons already say it. Absent on cards that are not answered by typing.
   */
  readonly number?: number;
  /** PAPER or LIVE, shown prominently by every channel. */
  readonly badge: 'PAPER' | 'LIVE';
  readonly fields: readonly CardField[];
  /** A line under the fields: warnings, expiry. */
  readonly notice?: string;
  /** Empty once answered or expired: channels remove the buttons. */
  readonly actions: readonly CardAction[];
}

/**
 * Who a card is for. `requester`: the person who asked (ephemeral where the platform can, in
 * shared chats). `chat`: everyone in the chat (an approval request others must see).
 */
export type CardAudience = 'requester' | 'chat';

export type OutboundMessage =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'card'; readonly card: Card; readonly audience?: CardAudience };

/** What the core asks of a channel. */
export interface ChannelPort {
  /** Posts a message; returns the platform's id for it (to edit it later). */
  send(address: ChannelAddress, message: OutboundMessage): Promise<{ messageId: string }>;
  /** Replaces an earlier message (card state changes). */
  edit(address: ChannelAddress, messageId: string, message: OutboundMessage): Promise<void>;
  /** Tells one person something others in the chat should not see (ephemeral, alert, DM). */
  notify(address: ChannelAddress, recipient: Sender, text: string): Promise<void>;
  /**
   * Whether a failed call means the chat refuses for good (the bot was blocked or removed, the
   * chat deleted): the message is recorded as undeliverable instead of retried.
   */
  refusesForGood?(error: unknown): boolean;
}

/**
 * Button ids: `<verb>:<intent id>`, at most 44 bytes (Telegram allows 64, Discord 100).
 * confirm/cancel are the requester's; approve/decline a second approver's (four-eyes).
 */
export type ActionVerb = 'confirm' | 'cancel' | 'approve' | 'decline';
export const ACTION_CONFIRM = 'confirm';
export const ACTION_CANCEL = 'cancel';
export const ACTION_APPROVE = 'approve';
export const ACTION_DECLINE = 'decline';

export function actionId(verb: ActionVerb, intentId: string): string {
  return `${verb}:${intentId}`;
}

const ACTION_PATTERN =
  /^(confirm|cancel|approve|decline):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Parses a button id; undefined for anything we did not issue in that form (forged or stale). */
export function parseActionId(id: string): { verb: ActionVerb; intentId: string } | undefined {
  const match = ACTION_PATTERN.exec(id);
  if (!match?.[1] || !match[2]) return undefined;
  return { verb: match[1] as ActionVerb, intentId: match[2] };
}

/**
 * Buttons of a "cancel open orders" card: `<verb>:<request id>`, at most 49 bytes. They name a
 * stored cancel request (not an intent): `cancelorders` confirms it, `keeporders` leaves the
 * orders working.
 */
export type OrdersActionVerb = 'cancelorders' | 'keeporders';
export const ACTION_CANCEL_ORDERS = 'cancelorders';
export const ACTION_KEEP_ORDERS = 'keeporders';

export function ordersActionId(verb: OrdersActionVerb, requestId: string): string {
  return `${verb}:${requestId}`;
}

const ORDERS_ACTION_PATTERN =
  /^(cancelorders|keeporders):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Parses a cancel card's button id; undefined for anything else (an intent's button, a forgery). */
export function parseOrdersActionId(id: string): { verb: OrdersActionVerb; requestId: string } | undefined {
  const match = ORDERS_ACTION_PATTERN.exec(id);
  if (!match?.[1] || !match[2]) return undefined;
  return { verb: match[1] as OrdersActionVerb, requestId: match[2] };
}
