/**
 * What the adapter remembers between a delivery and its answers, in memory only: reply handles
 * (the response_url and requester of one delivery) and ephemeral cards (which only a response_url
 * can edit). Slack lets a response_url be used 5 times within 30 minutes; entries die with it.
 */
import { randomUUID } from 'node:crypto';
import type { ReplyContext } from './inbound.js';

/** Slack's response_url validity. */
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;
/** Slack's response_url use limit. */
export const RESPONSE_URL_MAX_USES = 5;

/** A response_url with its remaining budget. */
export class ResponseUrl {
  private uses = 0;

  constructor(
    readonly url: string,
    private readonly expiresAt: number,
  ) {}

  static issuedNow(url: string, now: number): ResponseUrl {
    return new ResponseUrl(url, now + RESPONSE_URL_TTL_MS);
  }

  usable(now: number): boolean {
    return this.uses < RESPONSE_URL_MAX_USES && now < this.expiresAt;
  }

  /** Not used yet: a message posted now becomes the one `replace_original` edits. */
  unused(now: number): boolean {
    return this.uses === 0 && now < this.expiresAt;
  }

  /** Counts one use; call just before posting. */
  use(): string {
    this.uses++;
    return this.url;
  }
}

export interface ReplyHandle extends Omit<ReplyContext, 'responseUrl'> {
  readonly responseUrl?: ResponseUrl;
}

/** An ephemeral card: only its requester sees it; edits go through a response_url. */
export interface EphemeralCard {
  readonly channelId: string;
  readonly userId: string;
  /** The response_url that can replace it (the one that posted it, or of the latest press on it). */
  responseUrl?: ResponseUrl;
  readonly createdAt: number;
}

export class ReplyState {
  private readonly handles = new Map<string, { handle: ReplyHandle; createdAt: number }>();
  private readonly cards = new Map<string, EphemeralCard>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Keeps the context of one delivery; returns the opaque key the core passes back. */
  remember(context: ReplyContext): string {
    this.prune();
    const now = this.now();
    const key = randomUUID();
    const { responseUrl, ...rest } = context;
    const handle: ReplyHandle = {
      ...rest,
      ...(responseUrl ? { responseUrl: ResponseUrl.issuedNow(responseUrl, now) } : {}),
    };
    this.handles.set(key, { handle, createdAt: now });
    // A press on an ephemeral card brings a fresh response_url that replaces exactly that card.
    if (handle.ephemeralCardId && handle.responseUrl) {
      const card = this.cards.get(handle.ephemeralCardId);
      if (card) card.responseUrl = handle.responseUrl;
    }
    return key;
  }

  handle(key: string | undefined): ReplyHandle | undefined {
    return key === undefined ? undefined : this.handles.get(key)?.handle;
  }

  /** Registers an ephemeral card under a new message id (`e:<uuid>`, never a Slack ts). */
  addCard(card: Omit<EphemeralCard, 'createdAt'>): string {
    const id = `e:${randomUUID()}`;
    this.cards.set(id, { ...card, createdAt: this.now() });
    return id;
  }

  card(id: string): EphemeralCard | undefined {
    return this.cards.get(id);
  }

  static isEphemeralId(messageId: string): boolean {
    return messageId.startsWith('e:');
  }

  /** Forgets what can no longer be used (a response_url lives 30 minutes). */
  private prune(): void {
    const oldest = this.now() - RESPONSE_URL_TTL_MS;
    for (const [key, entry] of this.handles) if (entry.createdAt < oldest) this.handles.delete(key);
    // Cards a little longer: a press within 30 minutes of the last one still refreshes them.
    for (const [id, card] of this.cards)
      if (card.createdAt < oldest - RESPONSE_URL_TTL_MS) this.cards.delete(id);
  }
}
