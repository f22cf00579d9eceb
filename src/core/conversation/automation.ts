/**
 * What the conversation needs of automation (strategies, monitors, backtests): one call that
 * performs a parsed automation command and answers in a sentence. The implementation lives in
 * src/strategies; the conversation only routes to it, so the core never depends on a strategy.
 */
import type { IntentCardUpdate } from '../intents/intent-service.js';
import type { ChannelAddress } from '../messages.js';
import type { AutomationCommand } from './commands.js';

/** Who asked, and the chat that strategy messages and cards go to. */
export interface AutomationRequest {
  readonly userId: string;
  readonly identityId: string;
  readonly address: ChannelAddress;
}

/**
 * A card the command closed (a paused or stopped strategy's card that waited for an answer), in
 * the chat where it was shown. Its move waits in the intent's outbox until the card is edited.
 */
export interface ClosedCard {
  readonly address: ChannelAddress;
  readonly update: IntentCardUpdate;
}

export interface AutomationAnswer {
  /** The whole answer (a refusal says why and changes nothing); it tells what the cards show. */
  readonly text: string;
  /** Cards to edit before the answer is sent. */
  readonly closedCards: readonly ClosedCard[];
}

export interface AutomationDesk {
  perform(command: AutomationCommand, request: AutomationRequest): Promise<AutomationAnswer>;
}
