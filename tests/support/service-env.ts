/**
 * The environment for a real program a test starts beside Arbion (redis-server, Chromium): without
 * a clock shim such as libfaketime's, which `npm run test:clock-ahead` preloads to move only
 * Arbion's clock. These programs keep real time, as the shared PostgreSQL and Redis do.
 */
export function serviceEnv(): NodeJS.ProcessEnv {
  const { LD_PRELOAD: _preload, FAKETIME: _faketime, ...env } = process.env;
  return env;
}
