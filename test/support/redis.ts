// The Redis the tests share budgets through (127.0.0.1:6379 on these machines; TEST_REDIS_URL),
// and whether it answers: global-setup asks once per run (see ./services.ts).
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

export async function redisReachable(url: string): Promise<boolean> {
  // Slow to answer on a busy machine is not unreachable (under CI, unreachable fails the tests that need it).
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 10_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
