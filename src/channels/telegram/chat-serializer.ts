/**
 * Outbound calls to one chat run one at a time, in the order they were asked for: a card and the
 * "filled" text after its edit arrive in that order even when a 429 makes one of them wait, and a
 * retry for one chat never holds up another. `idle()` is the drain point for `stop()` and tests.
 */
export class ChatSerializer {
  private readonly tails = new Map<string, Promise<void>>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  /** Runs `task` after every earlier task of the same chat has settled. */
  run<T>(chatKey: string, task: () => Promise<T>): Promise<T> {
    this.inFlight++;
    const previous = this.tails.get(chatKey) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(chatKey, tail);
    void tail.then(() => {
      if (this.tails.get(chatKey) === tail) this.tails.delete(chatKey);
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
    return result;
  }

  /** Calls queued or running. */
  get size(): number {
    return this.inFlight;
  }

  /** Resolves once every call queued so far has settled. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
