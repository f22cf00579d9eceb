/** How the automation desk names strategies and alerts in its answers. */
import type { Alert } from '../../core/db/generated/client.js';
import { Decimal, formatDecimal, formatUsd } from '../../core/domain/values.js';

/** The first eight hex digits of an id: what lists show and commands accept. */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(0, 8);
}

const ALERT_WORDS: Readonly<Record<Alert['kind'], string>> = {
  price_above: 'tell me above',
  price_below: 'tell me below',
  stop_loss: 'stop loss at',
  take_profit: 'take profit at',
  trailing_stop: 'trailing stop',
};

/** Alerts, and what happened to their pending orders, as the user sees them. */
export function describeAlert(alert: Alert): string {
  const level =
    alert.kind === 'trailing_stop'
      ? `${formatDecimal(new Decimal(alert.trailFraction?.toString() ?? '0').mul(100), 2)}% below the high`
      : formatUsd(alert.threshold?.toString() ?? '0');
  const size =
    alert.action === 'close_position'
      ? `, sells ${alert.quantity === null ? 'the whole position' : `${formatDecimal(alert.quantity.toString())}`}`
      : '';
  return `${alert.symbol}: ${ALERT_WORDS[alert.kind]} ${level}${size}`;
}

/** "card was" for one, "cards were" for more. */
export function cardsWere(count: number): string {
  return count === 1 ? 'card was' : 'cards were';
}
