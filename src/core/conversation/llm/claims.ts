/**
 * The model's prose must not claim what the core did not do. In one LLM turn nothing is ever
 * placed, filled or cancelled (the model can only ask; only a press on a card acts), so a sentence
 * that reports such an action as done is false by construction, whatever the model read.
 *
 * The check is deliberately conservative: a sentence that reads as a completed trade, fill,
 * cancel or switch, with no negation or condition in it, counts as a claim, and the whole answer
 * is replaced by what really happened (the rest of it may build on the claim). A true report of an
 * earlier fill ("your order was filled yesterday") is replaced too: the user is pointed at
 * "orders" and "positions", which read the account.
 */
import type { ProposalOutcome } from './proposals.js';

/** Action verbs in the past tense: what the model might pretend it did. */
const DONE =
  '(?:placed|bought|purchased|sold|shorted|executed|submitted|sent|cancell?ed|filled|closed|opened|liquidated|swapped|traded|switched|moved|transferred|completed|confirmed)';

const CLAIMS: readonly RegExp[] = [
  // "I placed...", "I've bought...", "we have just cancelled...", "I successfully sold..."
  new RegExp(
    `\\b(?:i|we)(?:'ve|\\s+have|\\s+had)?(?:\\s+(?:just|already|now|successfully|also))*\\s+${DONE}\\b`,
    'i',
  ),
  // "Order placed!", "your order has been filled", "all orders were cancelled", "trade executed"
  new RegExp(
    `\\b(?:orders?|trades?|purchases?|sales?|swaps?|stops?|positions?|buy|sell|cancel(?:l?ation)?s?)\\b(?:\\s+(?:is|are|was|were|has|have|been|got|now|just|already|all|successfully|fully|partially))*\\s+${DONE}\\b`,
    'i',
  ),
  // A sentence that opens with the verb: "Bought 10 AAPL.", "Filled at $189.20", "Done: sold."
  new RegExp(`^(?:done[,:!.\\s-]*)?(?:successfully\\s+)?${DONE}\\b`, 'i'),
  // "The trade went through", "your order is in", "you're all set: ..."
  /\b(?:went|gone)\s+through\b|\b(?:orders?|trades?)\s+(?:is|are)\s+in\b|\ball set\b/i,
  // "Success!", "Done!" on their own
  /^(?:success(?:fully)?|done)[!.]*$/i,
];

/**
 * Words that, before the verb in its clause, make it a condition, a negation or a future ("if I
 * sold", "nothing will be cancelled"), not a report. Only the clause before the verb counts, so
 * "I bought 10 AAPL, no problem" stays a claim.
 */
const NOT_A_REPORT =
  /\b(?:not|no|nothing|never|none|cannot|can|could|will|would|should|shall|may|might|until|unless|once|when|whenever|if|whether|before|yet|to be)\b|n't\b|'ll\b/i;

/** A sentence opening with a condition ("Once you confirm, the order is sent") reports nothing. */
const CONDITIONAL_OPENING = /^(?:if|once|when|whenever|after|as soon as|unless|until|before)\b/i;

/** Splits prose into sentences (and lines), trimmed, without empties. */
function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '');
}

function reportsDeed(sentence: string): boolean {
  if (sentence.endsWith('?') || CONDITIONAL_OPENING.test(sentence)) return false;
  return CLAIMS.some((pattern) => {
    const match = pattern.exec(sentence);
    if (match === null) return false;
    const before = sentence.slice(0, match.index + match[0].length);
    const clause = before.split(/[,;:\u2013\u2014]|\s-\s/).at(-1) ?? before;
    return !NOT_A_REPORT.test(clause);
  });
}

/** Whether the prose reports a trade, fill, cancel or switch as done. */
export function claimsAction(text: string): boolean {
  return sentences(text).some(reportsDeed);
}

/** What really happened this turn, in place of prose that claimed otherwise. */
export function whatReallyHappened(outcomes: readonly ProposalOutcome[]): string {
  const cards = outcomes.filter((outcome) => outcome.kind === 'card').length;
  const shown =
    cards === 0
      ? 'Nothing was placed, filled or cancelled.'
      : `Nothing was placed, filled or cancelled: ${cards === 1 ? 'the card above waits' : `the ${cards} cards above wait`} for your confirmation.`;
  return `${shown} Say "orders" or "positions" to see your account as it is.`;
}

/** The model's answer if it claims nothing it did not do; otherwise what really happened. */
export function truthfulAnswer(
  text: string,
  outcomes: readonly ProposalOutcome[],
): { text: string; replaced: boolean } {
  if (!claimsAction(text)) return { text, replaced: false };
  return { text: whatReallyHappened(outcomes), replaced: true };
}
