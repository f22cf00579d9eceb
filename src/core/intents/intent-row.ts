/**
 * An intent as stored, and what is read off it: its numbers as decimals, the option contract it
 * names, the symbol the broker knows it by, and the hash of the exact order its card showed.
 */
import type { TradingAccount } from '../accounts/accounts.js';
import type { PlaceOrderRequest } from '../brokers/broker.js';
import type { Prisma } from '../db/database.js';
import { Decimal } from '../domain/values.js';
import type { OptionContract, QuoteRequest } from '../market-data/market-data.js';
import { occSymbol } from '../market-data/providers/options.js';
import { orderHash } from './order-identity.js';
import { swapHashPart, swapOf } from './swaps.js';

export type IntentRow = Prisma.TradeIntentGetPayload<object>;

export function dec(value: { toString(): string }): Decimal {
  return new Decimal(value.toString());
}

export function optionalDec(value: { toString(): string } | null): Decimal | undefined {
  return value === null ? undefined : dec(value);
}

/** The option contract an intent names, if it is an option order. */
export function contractOf(row: IntentRow): OptionContract | undefined {
  if (
    row.assetClass !== 'option' ||
    !row.optionUnderlying ||
    !row.optionExpiry ||
    !row.optionRight ||
    !row.optionStrike
  ) {
    return undefined;
  }
  return {
    underlying: row.optionUnderlying,
    expiry: row.optionExpiry.toISOString().slice(0, 10),
    right: row.optionRight,
    strike: dec(row.optionStrike),
  };
}

/** What to quote: the option contract, or the ticker. */
export function quoteRequestFor(
  instrument: { readonly assetClass: string; readonly symbol: string },
  contract: OptionContract | undefined,
): QuoteRequest {
  return contract
    ? { assetClass: 'option', contract }
    : { assetClass: instrument.assetClass as 'equity' | 'crypto', symbol: instrument.symbol };
}

/** The symbol positions and orders carry at the broker: the OCC symbol of an option. */
export function brokerSymbolFor(symbol: string, contract: OptionContract | undefined): string {
  return contract ? occSymbol(contract) : symbol;
}

/** SHA-256 of the order an intent describes: a confirmation is for this exact order only. */
export function hashOf(row: IntentRow): string {
  const contract = contractOf(row);
  return orderHash({
    brokerAccountId: row.brokerAccountId ?? '',
    mode: row.mode,
    side: row.side,
    assetClass: row.assetClass,
    symbol: row.symbol,
    quantity: row.quantity === null ? null : dec(row.quantity).toFixed(),
    notional: row.notional === null ? null : dec(row.notional).toFixed(),
    orderType: row.orderType,
    limitPrice: row.limitPrice === null ? null : dec(row.limitPrice).toFixed(),
    stopPrice: row.stopPrice === null ? null : dec(row.stopPrice).toFixed(),
    timeInForce: row.timeInForce,
    option: contract ? occSymbol(contract) : null,
    swap: swapHashPart(swapOf(row)),
  });
}

/** The order exactly as the card showed it, for the broker. */
export function placeRequest(
  intent: IntentRow,
  account: TradingAccount,
  contract: OptionContract | undefined,
): PlaceOrderRequest {
  const swap = swapOf(intent);
  return {
    accountId: account.externalId,
    clientOrderId: intent.clientOrderId,
    side: intent.side,
    assetClass: intent.assetClass,
    symbol: brokerSymbolFor(intent.symbol, contract),
    option: contract,
    quantity: optionalDec(intent.quantity),
    notional: optionalDec(intent.notional),
    orderType: intent.orderType,
    limitPrice: optionalDec(intent.limitPrice),
    stopPrice: optionalDec(intent.stopPrice),
    timeInForce: intent.timeInForce,
    ...(swap === undefined
      ? {}
      : {
          swap: {
            network: swap.network,
            toToken: swap.toToken,
            slippageBps: swap.slippageBps,
            minToAmount: new Decimal(swap.minToAmount),
          },
        }),
  };
}

/** The prices an intent names, for estimating its fill. */
export function rowPrices(intent: IntentRow) {
  const limitPrice = optionalDec(intent.limitPrice);
  const stopPrice = optionalDec(intent.stopPrice);
  return {
    side: intent.side,
    ...(limitPrice === undefined ? {} : { limitPrice }),
    ...(stopPrice === undefined ? {} : { stopPrice }),
  };
}

/** The size an intent names: a quantity, or a dollar amount. */
export function rowSize(intent: IntentRow) {
  const quantity = optionalDec(intent.quantity);
  const notional = optionalDec(intent.notional);
  return { ...(quantity === undefined ? {} : { quantity }), ...(notional === undefined ? {} : { notional }) };
}
