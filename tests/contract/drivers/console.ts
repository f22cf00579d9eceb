/**
 * The console channel under the contract: lines typed into its input stream, and what a person
 * at the terminal reads from its output (cards parsed back from their text rendering). The console
 * is one person's terminal, so only alice exists; buttons are the words the card says to type
 * ("confirm #12"), and a card is known by its number (the console keeps its message ids to itself).
 */
import { PassThrough, Writable } from 'node:stream';
import { ConsoleChannel } from '../../../src/channels/console/console-channel.js';
import type { ContractDriver, DriverFactory, Person, SeenCard } from '../driver.js';

const CARD_END = /└─ card #(\d+)(?:: type (.*))?$/m;
const CARD_UPDATED = /^\(card #(\d+) updated\)\n/;

export const consoleDriver: DriverFactory = {
  platform: 'console',
  capabilities: { signedInbound: false, httpInbound: false, platformProtocol: false, multiplePeople: false },
  async create(context) {
    const input = new PassThrough();
    const cards = new Map<string, SeenCard>();
    const texts: string[] = [];
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const text = chunk.toString('utf8').replace(/\n$/, '');
        const updated = CARD_UPDATED.exec(text);
        const body = updated ? text.slice(updated[0].length) : text;
        const end = CARD_END.exec(body);
        if (end?.[1]) {
          // "[confirm #12] or [cancel #12]": the words a person types to press.
          const actionIds = [...(end[2] ?? '').matchAll(/\[([^\]]+)\]/g)].map((match) => match[1] ?? '');
          cards.set(end[1], { messageId: end[1], text: body, actionIds });
        } else {
          texts.push(body.replace(/^\(only you see this\) /, ''));
        }
        callback();
      },
    });
    let typed = 0;
    let handled = 0;
    let waiters: (() => void)[] = [];
    const channel = new ConsoleChannel({
      input,
      output,
      user: { platformUserId: 'alice', displayName: 'alice' },
      onMessage: async (message) => {
        try {
          const acceptance = await context.inbound.accept(message);
          await acceptance.handled;
        } finally {
          handled++;
          if (handled === typed) {
            const ready = waiters;
            waiters = [];
            for (const resolve of ready) resolve();
          }
        }
      },
    });
    context.arbion.channels.register('console', channel);
    const running = channel.run();

    const settle = (): Promise<void> =>
      handled === typed ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    const type = async (line: string): Promise<void> => {
      typed++;
      input.write(`${line}\n`);
      await settle();
    };
    const onlyAlice = (person: Person) => {
      if (person !== 'alice') throw new Error('the console is one person’s terminal');
    };

    const driver: ContractDriver = {
      platform: 'console',
      capabilities: consoleDriver.capabilities,
      async join(person) {
        onlyAlice(person);
      },
      platformUserId: (person) => person,
      async say(person, text) {
        onlyAlice(person);
        await type(text);
      },
      async press(person, messageId, actionId) {
        onlyAlice(person);
        // Typing the button's words ("confirm #12") is pressing it.
        if (!cards.get(messageId)?.actionIds.includes(actionId))
          throw new Error(`card #${messageId} has no [${actionId}] to type`);
        await type(actionId);
      },
      redeliverLast: () => Promise.reject(new Error('the console has no redelivery')),
      forged: () => Promise.reject(new Error('the console has no signed inbound')),
      malformed: () => Promise.reject(new Error('the console has no HTTP inbound')),
      rateLimitNextCall() {
        throw new Error('the console has no rate limits');
      },
      cards: () => [...cards.values()],
      textsFor(person) {
        onlyAlice(person);
        return [...texts];
      },
      settle: async () => {
        await settle();
        await context.inbound.idle();
      },
      async close() {
        channel.stop();
        input.end();
        await running;
      },
    };
    return driver;
  },
};
