/**
 * The inbound side of Arbion: the inbox (core/conversation/inbox.ts) and the queue that handles
 * what it recorded, one chat at a time. Every channel hands its messages here.
 */
import { InboundQueue } from '../channels/inbound-queue.js';
import type { Conversation } from '../core/conversation/conversation.js';
import { Inbox } from '../core/conversation/inbox.js';
import type { InboundMessage } from '../core/messages.js';
import type { ProcessRegistry } from '../core/processes/process-registry.js';
import type { ArbionSetup, ChannelRegistry } from './arbion.js';

export interface Inbound {
  readonly inbox: Inbox;
  readonly queue: InboundQueue;
  /**
   * Queues the inbox's unfinished rows that no live process handles (a crash or a stop left them
   * behind), taking them over. `live`: the processes alive now (default: asked of the registry,
   * which forgets the dead ones). Returns how many were queued.
   */
  resume(live?: readonly string[]): Promise<number>;
}

export function createInbound(
  options: ArbionSetup,
  parts: {
    readonly conversation: Conversation;
    readonly channels: ChannelRegistry;
    readonly processes: ProcessRegistry;
  },
): Inbound {
  const { database, logger, clock } = options;
  const inbox = new Inbox({ sql: database.sql, clock, processId: parts.processes.id });
  const tell = async (message: InboundMessage, text: string) => {
    const channel = parts.channels.get(message.address.platform);
    if (message.kind === 'action') await channel.notify(message.address, message.sender, text);
    else await channel.send(message.address, { kind: 'text', text });
  };
  const queue = new InboundQueue({
    inbox,
    handle: (message, ticket) => parts.conversation.handle(message, ticket),
    tell,
    databaseReachable: () =>
      database.ping().then(
        () => true,
        () => false,
      ),
    logger: logger.child({ component: 'inbound' }),
  });
  return {
    inbox,
    queue,
    async resume(live) {
      const entries = await inbox.claimUnfinished(live ?? (await parts.processes.live()));
      const queued = queue.resume(entries);
      if (queued.length > 0) logger.info({ count: queued.length }, 'handling messages left unfinished');
      return queued.length;
    },
  };
}
