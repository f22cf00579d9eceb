/**
 * What the conversation needs of automation (strategies, monitors, backtests): one call that
 * performs a parsed automation command and answers in a sentence. The implementation lives in
 * src/strategies; the conversation only routes to it, so the core never depends on a strategy.
 */
import type { ChannelAddress } from '../messages.js';
import type { AutomationCommand } from './commands.js';

/** Who asked, and the chat that strategy messages and cards go to. */
export interface AutomationRequest {
  readonly userId: string;
  readonly identityId: string;
  readonly address: ChannelAddress;
}

export interface AutomationDesk {
  /** Performs the command; the text is the whole answer (a refusal says why and changes nothing). */
  perform(command: AutomationCommand, request: AutomationRequest): Promise<string>;
}
