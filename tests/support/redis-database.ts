/**
 * A logical database of the shared Redis for one test: an index (1-15) that holds no keys when the
 * test takes it, so processes started with REDIS_URL=redis://127.0.0.1:6379/<index> share their
 * BullMQ queues with nobody else. Releasing removes only the keys Arbion wrote (prefix `arbion:`);
 * the server itself is never stopped or flushed.
 */
import { Redis } from 'ioredis';

const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface RedisDatabase {
  /** REDIS_URL for the processes under test. */
  readonly url: string;
  readonly index: number;
  /** Deletes the keys under Arbion's prefix in this database. */
  release(): Promise<void>;
}

/** Takes an empty logical database, starting from a random index. */
export async function claimRedisDatabase(): Promise<RedisDatabase> {
  const start = 1 + Math.floor(Math.random() * 15);
  for (let step = 0; step < 15; step++) {
    const index = 1 + ((start - 1 + step) % 15);
    const client = new Redis(`${SHARED_REDIS}/${index}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      if ((await client.dbsize()) > 0) continue;
    } finally {
      client.disconnect();
    }
    return {
      url: `${SHARED_REDIS}/${index}`,
      index,
      async release() {
        const cleaner = new Redis(`${SHARED_REDIS}/${index}`, { maxRetriesPerRequest: 1 });
        try {
          let cursor = '0';
          do {
            const [next, keys] = await cleaner.scan(cursor, 'MATCH', 'arbion:*', 'COUNT', 500);
            cursor = next;
            if (keys.length > 0) await cleaner.del(...keys);
          } while (cursor !== '0');
        } finally {
          cleaner.disconnect();
        }
      },
    };
  }
  throw new Error(`no empty logical database on ${SHARED_REDIS} (indexes 1-15 all hold keys)`);
}
