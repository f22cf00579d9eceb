/**
 * The fake Slack's model of a workspace: channels with members, the bot's messages as they look
 * now (after updates) and ephemeral messages per user. Drivers read cards and texts from here.
 */
import type { FakeBlock } from './block-kit.js';

export interface FakeChannel {
  readonly id: string;
  readonly members: Set<string>;
  /** For a DM (D...): the human on the other side of the bot. */
  readonly imUser?: string;
}

export interface FakeMessage {
  readonly kind: 'message';
  /** Creation order across messages and ephemerals. */
  readonly seq: number;
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  text: string;
  blocks: FakeBlock[];
  deleted: boolean;
}

export interface FakeEphemeral {
  readonly kind: 'ephemeral';
  readonly seq: number;
  /** The fake's id; Slack gives ephemerals no lasting ts. */
  readonly id: string;
  readonly channel: string;
  readonly user: string;
  text: string;
  blocks: FakeBlock[];
  deleted: boolean;
}

export type FakeShown = FakeMessage | FakeEphemeral;

export class SlackChatModel {
  readonly channels = new Map<string, FakeChannel>();
  readonly messages: FakeMessage[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  private seq = 0;
  private readonly tsBase = Math.floor(Date.now() / 1000);

  addChannel(id: string, members: readonly string[], imUser?: string): FakeChannel {
    const channel: FakeChannel = { id, members: new Set(members), ...(imUser ? { imUser } : {}) };
    this.channels.set(id, channel);
    return channel;
  }

  post(channel: string, text: string, blocks: FakeBlock[], threadTs?: string): FakeMessage {
    const seq = ++this.seq;
    const message: FakeMessage = {
      kind: 'message',
      seq,
      channel,
      ts: `${this.tsBase + seq}.${String(seq).padStart(6, '0')}`,
      ...(threadTs ? { threadTs } : {}),
      text,
      blocks,
      deleted: false,
    };
    this.messages.push(message);
    return message;
  }

  postEphemeral(channel: string, user: string, text: string, blocks: FakeBlock[]): FakeEphemeral {
    const seq = ++this.seq;
    const ephemeral: FakeEphemeral = {
      kind: 'ephemeral',
      seq,
      id: `eph-${seq}`,
      channel,
      user,
      text,
      blocks,
      deleted: false,
    };
    this.ephemerals.push(ephemeral);
    return ephemeral;
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find(
      (message) => message.channel === channel && message.ts === ts && !message.deleted,
    );
  }

  ephemeral(id: string): FakeEphemeral | undefined {
    return this.ephemerals.find((ephemeral) => ephemeral.id === id && !ephemeral.deleted);
  }

  /** What `user` sees in `channel`: its messages plus their own ephemerals, oldest first. */
  visibleIn(channel: string, user: string): FakeShown[] {
    const shown: FakeShown[] = [
      ...this.messages.filter((message) => message.channel === channel && !message.deleted),
      ...this.ephemerals.filter(
        (ephemeral) => ephemeral.channel === channel && ephemeral.user === user && !ephemeral.deleted,
      ),
    ];
    return shown.sort((a, b) => a.seq - b.seq);
  }

  /** Everything shown in `channel` to anyone (messages and every ephemeral), oldest first. */
  allIn(channel: string): FakeShown[] {
    const shown: FakeShown[] = [
      ...this.messages.filter((message) => message.channel === channel && !message.deleted),
      ...this.ephemerals.filter((ephemeral) => ephemeral.channel === channel && !ephemeral.deleted),
    ];
    return shown.sort((a, b) => a.seq - b.seq);
  }
}
