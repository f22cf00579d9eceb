/**
 * The peers Arbion's Telegram webhook is measured against: bare grammY bots on grammY's own fastify
 * webhook handler, as anyone would write them. The echo bot answers each text at once: the floor
 * any Telegram bot on this stack pays. The one-row peer first writes the message with one node-pg
 * `INSERT ... RETURNING` (the least a bot that keeps its messages does: the fair peer for a bot
 * with a database), then answers.
 */
import Fastify from 'fastify';
import { Bot, webhookCallback } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import pg from 'pg';

export interface PeerBotOptions {
  readonly token: string;
  /** The Bot API root (the fake's). */
  readonly apiRoot: string;
  readonly botInfo: UserFromGetMe;
  /** Checked by grammY against X-Telegram-Bot-Api-Secret-Token. */
  readonly secretToken: string;
}

export interface PeerBot {
  /** The webhook's URL on 127.0.0.1. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `bot` through `webhookCallback` on a fresh fastify at /bot. */
async function serve(bot: Bot, options: PeerBotOptions, close: () => Promise<void>): Promise<PeerBot> {
  const app = Fastify();
  app.post('/bot', webhookCallback(bot, 'fastify', { secretToken: options.secretToken }));
  const url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/bot`;
  return {
    url,
    close: async () => {
      await app.close();
      await close();
    },
  };
}

export function startEchoBot(options: PeerBotOptions): Promise<PeerBot> {
  const bot = new Bot(options.token, { client: { apiRoot: options.apiRoot }, botInfo: options.botInfo });
  bot.on('message:text', (context) => context.reply(context.message.text));
  return serve(bot, options, async () => {});
}

/** The one-row peer's table; a bench database is thrown away after the run. */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS bench_peer_messages (
  id bigserial PRIMARY KEY,
  chat_id bigint NOT NULL,
  update_id bigint UNIQUE NOT NULL,
  text text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
)`;
const INSERT = `INSERT INTO bench_peer_messages (chat_id, update_id, text) VALUES ($1, $2, $3)
  RETURNING id, received_at`;

/**
 * The one-row peer on the database at `databaseUrl` (its table created there), with a node-pg pool
 * of `poolSize` connections (Arbion's own size, so neither side has more connections).
 */
export async function startOneRowBot(
  options: PeerBotOptions & { readonly databaseUrl: string; readonly poolSize: number },
): Promise<PeerBot & { rows(): Promise<number> }> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize });
  await pool.query(CREATE_TABLE);
  const bot = new Bot(options.token, { client: { apiRoot: options.apiRoot }, botInfo: options.botInfo });
  bot.on('message:text', async (context) => {
    await pool.query(INSERT, [context.chat.id, context.update.update_id, context.message.text]);
    await context.reply(context.message.text);
  });
  const served = await serve(bot, options, () => pool.end());
  return {
    ...served,
    rows: async () => {
      const result = await pool.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM bench_peer_messages',
      );
      return result.rows[0]?.count ?? 0;
    },
  };
}
