/**
 * Interaction tokens, in memory only: they are credentials for answering one interaction (edit its
 * reply, follow up, edit the messages it made) and live 15 minutes. Kept by reply handle (the
 * delivery being answered) and by message id (so a card can still be edited, e.g. on expiry, by
 * the freshest token that may edit it). Never persisted, never logged.
 */

import type { ReplySeed } from './inbound.js';

/** Discord's interaction token lifetime, minus a margin so we never race its expiry. */
export const TOKEN_LIFETIME_MS = 15 * 60_000 - 30_000;

export interface ReplyContext {
  readonly interactionId: string;
  readonly token: string;
  readonly userId: string;
  readonly ephemeral: boolean;
  /** The message '@original' refers to: the pressed card, or the deferred reply once filled. */
  originalMessageId?: string;
  /** A deferred reply still showing "thinking": the first reply fills it. */
  originalPending: boolean;
  /** Follow-ups this token created. */
  readonly followUps: Set<string>;
  readonly expiresAt: number;
}

/** Whether this context's token may edit the message. */
export function canEdit(context: ReplyContext, messageId: string): boolean {
  return context.originalMessageId === messageId || context.followUps.has(messageId);
}

export class ReplyContexts {
  private readonly byHandle = new Map<string, ReplyContext>();
  private readonly byMessage = new Map<string, ReplyContext>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The context of an interaction, made on first sight: its token kept in memory, and the pressed
   * card (if any) owned by it, so the freshest token keeps edits (expiry) possible.
   */
  openFor(reply: ReplySeed): ReplyContext {
    const existing = this.get(reply.interactionId);
    if (existing !== undefined) return existing;
    const context: ReplyContext = {
      interactionId: reply.interactionId,
      token: reply.token,
      userId: reply.userId,
      ephemeral: reply.ephemeral,
      originalMessageId: reply.cardMessageId,
      originalPending: reply.deferredReply,
      followUps: new Set(),
      expiresAt: this.now() + TOKEN_LIFETIME_MS,
    };
    this.add(reply.interactionId, context);
    if (reply.cardMessageId) this.own(reply.cardMessageId, context);
    return context;
  }

  add(handle: string, context: ReplyContext): void {
    this.sweep();
    this.byHandle.set(handle, context);
  }

  /** The live context of a delivery, if it has one. */
  get(handle: string | undefined): ReplyContext | undefined {
    if (handle === undefined) return undefined;
    const context = this.byHandle.get(handle);
    return context && context.expiresAt > this.now() ? context : undefined;
  }

  /** Remembers that `context` may edit `messageId` (replacing an older token). */
  own(messageId: string, context: ReplyContext): void {
    const current = this.byMessage.get(messageId);
    if (current === undefined || current.expiresAt <= context.expiresAt)
      this.byMessage.set(messageId, context);
  }

  /** A live token that may edit the message, if any. */
  forMessage(messageId: string): ReplyContext | undefined {
    const context = this.byMessage.get(messageId);
    return context && context.expiresAt > this.now() ? context : undefined;
  }

  clear(): void {
    this.byHandle.clear();
    this.byMessage.clear();
  }

  get size(): number {
    return this.byHandle.size;
  }

  /** Drops expired tokens, at most once a minute (a full pass over both maps). */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, context] of this.byHandle) if (context.expiresAt <= now) this.byHandle.delete(key);
    for (const [key, context] of this.byMessage) if (context.expiresAt <= now) this.byMessage.delete(key);
  }
}
