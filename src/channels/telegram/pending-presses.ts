/**
 * Button presses (callback queries) waiting for their one answer. Telegram shows a spinner until
 * the bot answers, and refuses a second answer: each query is answered exactly once, with an alert
 * when the core has something to tell the presser, else empty once the core is done with it.
 */

/** Answered query ids remembered, so a redelivered update does not answer again. */
const REMEMBERED_ANSWERS = 10_000;

export class PendingPresses {
  private readonly open = new Set<string>();
  private readonly answered = new Set<string>();

  /** Records a press; false when the query is already open or answered (a redelivery). */
  begin(queryId: string): boolean {
    if (this.open.has(queryId) || this.answered.has(queryId)) return false;
    this.open.add(queryId);
    return true;
  }

  /** Claims the right to answer the query; true exactly once per query. */
  claim(queryId: string): boolean {
    if (!this.open.delete(queryId)) return false;
    this.answered.add(queryId);
    if (this.answered.size > REMEMBERED_ANSWERS) {
      const oldest = this.answered.values().next().value;
      if (oldest !== undefined) this.answered.delete(oldest);
    }
    return true;
  }
}
