/**
 * What the model's state-changing tools come to. The model only asks: each proposal is handed to
 * the core (`Proposer`), which dispatches it exactly like the same typed command and shows a card,
 * a typed confirmation phrase or a refusal. Only then does the model learn, in one sentence from
 * `describeProposalOutcome`, what the core did.
 */
import type { ActionCommand, OrderCommand, SwapCommand } from '../commands.js';

/** A proposal the core turns into a confirmation card (or refuses). Never executed by the LLM layer. */
export type LlmCommand = OrderCommand | SwapCommand | ActionCommand;

/** What the core did with one proposal, as the model may learn it. */
export type ProposalOutcome =
  /** A card is shown; `card` is what identifies it to the user (its number, "#12"). */
  | { readonly kind: 'card'; readonly card: string }
  /** No card: the core refused, and the user was told why. */
  | { readonly kind: 'refused'; readonly reason: string }
  /** No card: the user was answered in words (a typed confirmation phrase asked for, a link sent). */
  | { readonly kind: 'answered'; readonly text: string };

/** Dispatches one proposal through the core and says what the user was shown. */
export type Proposer = (command: LlmCommand) => Promise<ProposalOutcome>;

/** What the core showed the user for a proposal: a card, or words. */
export type CoreReply =
  | { readonly kind: 'card'; readonly card: string }
  | { readonly kind: 'text'; readonly text: string };

/** One-time linking URLs are credentials: the model never sees them. */
function withoutLinks(text: string): string {
  return text.replace(/https?:\/\/\S+/g, '[link shown to the user]');
}

/**
 * The outcome of a dispatched proposal. Words in answer to an order, a swap or a cancel are a
 * refusal (a card is the only success); words in answer to a mode switch or a link request are
 * the answer itself (a typed confirmation phrase asked for, or a link sent).
 */
export function outcomeOf(command: LlmCommand, reply: CoreReply | undefined): ProposalOutcome {
  if (reply === undefined) return { kind: 'refused', reason: 'nothing was shown to the user' };
  if (reply.kind === 'card') return reply;
  const text = withoutLinks(reply.text);
  const asksForCard = command.kind !== 'action' || command.action === 'cancel';
  return asksForCard ? { kind: 'refused', reason: text } : { kind: 'answered', text };
}

/**
 * The one sentence the model is told about a proposal, after the core decided. Kept in one place
 * so the way a card is named ("card #12") changes here only.
 */
export function describeProposalOutcome(outcome: ProposalOutcome): string {
  switch (outcome.kind) {
    case 'card':
      return `card ${outcome.card} shown; nothing happens unless the user confirms it`;
    case 'refused':
      return `refused: ${outcome.reason}`;
    case 'answered':
      return `no card; the user was told: ${outcome.text}`;
  }
}
