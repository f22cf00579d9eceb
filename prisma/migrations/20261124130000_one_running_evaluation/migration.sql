-- At most one running evaluation per strategy: runs of different ticks never overlap, so two
-- evaluations cannot both read the same pending orders and daily spend and both place an order.
-- A partial index: Prisma's schema cannot say it, so it lives here only (see StrategyRun).
CREATE UNIQUE INDEX "strategy_runs_one_running" ON "strategy_runs" ("strategyId") WHERE "status" = 'running';
