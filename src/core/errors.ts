/**
 * One error hierarchy for the whole product.
 *
 * Every error we raise on purpose that can reach a user or a log is an {@link ArbionError}: it
 * carries a stable `code` for logs and tests and a `userMessage` that is safe to show in a chat or
 * on a page (no internals, no secrets). Anything else that escapes is a bug, and users see
 * {@link GENERIC_USER_MESSAGE} with a reference.
 *
 * Broker failures are ArbionErrors under two roots owned by the broker port
 * (src/core/brokers/errors.ts): `BrokerRejectedError` (nothing was placed) and
 * `BrokerUnreachableError` (an order may exist), each with a `kind` core branches on; adapters
 * extend them. Errors that wrap another service's failure keep that service's code as their
 * `code` when it sent one (a broker's error code, Slack's `channel_not_found` in `SlackCallError`).
 *
 * Six errors stay plain `Error`s on purpose: they are control flow that never leaves its module,
 * so no user or log sees them as product errors:
 * - `TransportFailure` (src/brokers/http/broker-http-client.ts) carries a failed attempt through
 *   the circuit breaker and is unwrapped at once;
 * - `ResponseUrlError` (src/channels/slack/response-url.ts) becomes a `SlackCallError`;
 * - `CommandExit` (src/cli/context.ts) ends a command with an exit code after it reported why;
 * - `LoopFailure` (src/core/conversation/llm/failures.ts) ends the tool loop with a
 *   failure the interpreter turns into its result;
 * - `MalformedCompletionError` (src/core/conversation/llm/completion-stream.ts) is a broken model
 *   answer the interpreter turns into "unavailable";
 * - `ProposalDispatchError` (src/core/conversation/llm/llm-interpreter.ts) carries the core's own
 *   failure to dispatch a proposal out of the tool loop, unwrapped at once.
 */

export const GENERIC_USER_MESSAGE = 'Something went wrong on our side. Nothing was changed.';

export abstract class ArbionError extends Error {
  /** Stable machine-readable code, e.g. `config_invalid`. */
  abstract readonly code: string;
  /** What we tell the user; written for a chat message, never contains secrets. */
  readonly userMessage: string;

  constructor(message: string, userMessage: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.userMessage = userMessage;
  }
}

/** Settings are missing, malformed or contradict each other. Lists every problem at once. */
export class ConfigError extends ArbionError {
  readonly code = 'config_invalid';
  /** One line per problem, each naming the variable. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const summary = `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
      .map((problem) => `  - ${problem}`)
      .join('\n')}`;
    super(summary, summary);
    this.problems = problems;
  }
}

/** The database cannot be reached or opened. */
export class DatabaseUnavailableError extends ArbionError {
  readonly code = 'database_unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(
      message,
      'Our database is not reachable right now. Nothing was changed; please try again shortly.',
      options,
    );
  }
}

/** Another process already holds the embedded database's data directory. */
export class DataDirectoryLockedError extends ArbionError {
  readonly code = 'data_directory_locked';
  /** Process id of the holder. */
  readonly holderPid: number;
  /** Where the holder serves HTTP, if it said. */
  readonly holderUrl: string | undefined;

  constructor(directory: string, holderPid: number, holderUrl: string | undefined) {
    const message = `The embedded database in ${directory} is in use by another Arbion process (pid ${holderPid}${
      holderUrl ? `, serving ${holderUrl}` : ''
    }). Stop it first, or set ARBION_DATA_DIR to another folder.`;
    super(message, message);
    this.holderPid = holderPid;
    this.holderUrl = holderUrl;
  }
}

/** A migration could not be created or applied, or the history does not match the database. */
export class MigrationError extends ArbionError {
  readonly code = 'migration_failed';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'The database schema could not be brought up to date.', options);
  }
}

/** What to show a user for any error: our message for ours, a generic one for everything else. */
export function userMessageFor(error: unknown): string {
  return error instanceof ArbionError ? error.userMessage : GENERIC_USER_MESSAGE;
}
