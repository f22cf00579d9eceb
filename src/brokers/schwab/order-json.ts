/**
 * Our `PlaceOrderRequest` → the order JSON Schwab's `POST /accounts/{hash}/orders` takes. Pure.
 *
 * What Schwab would refuse for certain is refused here (nothing is sent), with a sentence for the
 * chat: dollar amounts, fractional shares, crypto, missing prices. Prices are decimal strings with
 * 2 decimals, or 4 below $1, TRUNCATED toward zero (Schwab refuses more decimals; truncating never
 * makes a buy limit pay more).
 */

import { BrokerRejectedError, type PlaceOrderRequest } from '../../core/brokers/broker.js';
import type { OrderSide, OrderType, TimeInForce } from '../../core/domain/values.js';
import { Decimal } from '../../core/domain/values.js';
import type { OptionContract } from '../../core/market-data/market-data.js';
import { occSymbol, parseOccSymbol } from '../../core/market-data/providers/options.js';

export type SchwabInstruction =
  | 'BUY'
  | 'SELL'
  | 'BUY_TO_OPEN'
  | 'SELL_TO_OPEN'
  | 'BUY_TO_CLOSE'
  | 'SELL_TO_CLOSE';
export type SchwabOrderType = 'MARKET' | 'LIMIT' | 'STOP' | 'STOP_LIMIT';
export type SchwabDuration = 'DAY' | 'GOOD_TILL_CANCEL' | 'FILL_OR_KILL' | 'IMMEDIATE_OR_CANCEL';

/**
 * Whether an option order opens or closes a position. Neither `PlaceOrderRequest` nor
 * `OptionContract` says so; the broker derives it from the account's position in the contract
 * (see `positionEffectFor`).
 */
export type PositionEffect = 'open' | 'close';

/** The order body as we send it (a subset of Schwab's `OrderRequest`). */
export interface SchwabOrderRequest {
  readonly orderType: SchwabOrderType;
  readonly session: 'NORMAL';
  readonly duration: SchwabDuration;
  readonly orderStrategyType: 'SINGLE';
  readonly complexOrderStrategyType?: 'NONE';
  readonly price?: string;
  readonly stopPrice?: string;
  readonly orderLegCollection: readonly [
    {
      readonly instruction: SchwabInstruction;
      /** Whole shares or contracts. */
      readonly quantity: number;
      readonly instrument: { readonly symbol: string; readonly assetType: 'EQUITY' | 'OPTION' };
    },
  ];
}

const ORDER_TYPES: Record<OrderType, SchwabOrderType> = {
  market: 'MARKET',
  limit: 'LIMIT',
  stop: 'STOP',
  stop_limit: 'STOP_LIMIT',
};

const DURATIONS: Record<TimeInForce, SchwabDuration> = {
  day: 'DAY',
  gtc: 'GOOD_TILL_CANCEL',
  fok: 'FILL_OR_KILL',
  ioc: 'IMMEDIATE_OR_CANCEL',
};

/** Largest whole quantity we send as a JSON number without losing digits. */
const MAX_QUANTITY = new Decimal(1_000_000_000);

/**
 * A price as Schwab takes it: 2 decimals from $1, 4 below, truncated. 199.999 → "199.99",
 * 0.12345 → "0.1234", 1 → "1.00". The result may be "0.0000" for sub-hundredth-of-a-cent input;
 * `schwabOrderJson` refuses that.
 */
export function schwabPrice(price: Decimal): string {
  const decimals = price.lt(1) ? 4 : 2;
  return price.toDecimalPlaces(decimals, Decimal.ROUND_DOWN).toFixed(decimals);
}

/**
 * Schwab's option symbol: the OCC symbol with the root padded to 6 (`AAPL  240517P00190000`).
 * Taken from the contract when the request has one, else read back from the request's symbol.
 */
export function schwabOptionSymbol(request: Pick<PlaceOrderRequest, 'symbol' | 'option'>): string {
  const contract: OptionContract | undefined = request.option ?? parseOccSymbol(request.symbol);
  if (contract === undefined) {
    throw new BrokerRejectedError('schwab', `${request.symbol} is not an option symbol Schwab understands`);
  }
  try {
    return occSymbol(contract);
  } catch (error) {
    throw new BrokerRejectedError('schwab', error instanceof Error ? error.message : String(error));
  }
}

/** The instruction for a side: options open or close; equities buy or sell (short sales are not placed). */
export function instructionFor(
  assetClass: 'equity' | 'option',
  side: OrderSide,
  effect: PositionEffect,
): SchwabInstruction {
  if (assetClass === 'equity') return side === 'buy' ? 'BUY' : 'SELL';
  if (side === 'buy') return effect === 'open' ? 'BUY_TO_OPEN' : 'BUY_TO_CLOSE';
  return effect === 'open' ? 'SELL_TO_OPEN' : 'SELL_TO_CLOSE';
}

/**
 * Open or close, from the signed quantity held in the contract: selling what we hold long closes,
 * buying back what we are short closes; anything else opens.
 */
export function positionEffectFor(side: OrderSide, heldQuantity: Decimal): PositionEffect {
  if (side === 'sell' && heldQuantity.gt(0)) return 'close';
  if (side === 'buy' && heldQuantity.lt(0)) return 'close';
  return 'open';
}

/**
 * The order body, or a `BrokerRejectedError` (nothing sent) for what Schwab cannot take.
 * `effect` matters for options only.
 */
export function schwabOrderJson(
  request: PlaceOrderRequest,
  effect: PositionEffect = 'open',
): SchwabOrderRequest {
  const reject = (reason: string): never => {
    throw new BrokerRejectedError('schwab', reason);
  };
  if (request.assetClass === 'crypto') reject('Schwab does not trade crypto');
  if (request.notional !== undefined || request.quantity === undefined) {
    return reject('Schwab takes orders in shares or contracts, not dollar amounts');
  }
  const quantity = request.quantity;
  if (!quantity.isInteger() || quantity.lte(0) || quantity.gt(MAX_QUANTITY)) {
    reject('Schwab takes whole shares or contracts only (no fractions through the API)');
  }
  const orderType = ORDER_TYPES[request.orderType];
  const needsPrice = orderType === 'LIMIT' || orderType === 'STOP_LIMIT';
  const needsStop = orderType === 'STOP' || orderType === 'STOP_LIMIT';
  const price = needsPrice ? formattedPrice('limit', request.limitPrice, reject) : undefined;
  const stopPrice = needsStop ? formattedPrice('stop', request.stopPrice, reject) : undefined;
  const option = request.assetClass === 'option';
  return {
    orderType,
    session: 'NORMAL',
    duration: DURATIONS[request.timeInForce],
    orderStrategyType: 'SINGLE',
    ...(option && { complexOrderStrategyType: 'NONE' as const }),
    ...(price !== undefined && { price }),
    ...(stopPrice !== undefined && { stopPrice }),
    orderLegCollection: [
      {
        instruction: instructionFor(option ? 'option' : 'equity', request.side, effect),
        quantity: quantity.toNumber(),
        instrument: option
          ? { symbol: schwabOptionSymbol(request), assetType: 'OPTION' }
          : { symbol: request.symbol.trim().toUpperCase(), assetType: 'EQUITY' },
      },
    ],
  };
}

function formattedPrice(
  kind: 'limit' | 'stop',
  value: Decimal | undefined,
  reject: (reason: string) => never,
): string {
  if (value === undefined) return reject(`a ${kind} order needs a ${kind} price`);
  const text = schwabPrice(value);
  if (new Decimal(text).lte(0)) reject(`the ${kind} price must be at least $0.0001`);
  return text;
}
