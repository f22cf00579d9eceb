/**
 * What Schwab refuses in an order beyond its schema: pure functions over an order request that
 * already passed the OpenAPI check. The fake models single-leg equity and option orders of the four
 * basic types; anything else is refused with a message saying the fake does not model it, so a
 * client never believes an unmodelled order works.
 */
import { Decimal } from 'decimal.js';
import { z } from 'zod';

/** The fields of a (schema-valid) order request the fake acts on. */
export const OrderRequestView = z.object({
  orderType: z.string().optional(),
  session: z.string().optional(),
  duration: z.string().optional(),
  orderStrategyType: z.string().optional(),
  complexOrderStrategyType: z.string().optional(),
  price: z.string().optional(),
  stopPrice: z.string().optional(),
  orderLegCollection: z
    .array(
      z.object({
        instruction: z.string().optional(),
        quantity: z.number().optional(),
        instrument: z.object({ symbol: z.string().optional(), assetType: z.string() }).optional(),
      }),
    )
    .optional(),
});
export type OrderRequestView = z.infer<typeof OrderRequestView>;

export type FakeOrderType = 'MARKET' | 'LIMIT' | 'STOP' | 'STOP_LIMIT';
export type FakeInstruction =
  | 'BUY'
  | 'SELL'
  | 'SELL_SHORT'
  | 'BUY_TO_COVER'
  | 'BUY_TO_OPEN'
  | 'BUY_TO_CLOSE'
  | 'SELL_TO_OPEN'
  | 'SELL_TO_CLOSE';

/** A checked single-leg order, the only kind the fake's order book holds. */
export interface CheckedOrder {
  readonly orderType: FakeOrderType;
  readonly session: string;
  readonly duration: string;
  readonly price: Decimal | undefined;
  readonly stopPrice: Decimal | undefined;
  readonly instruction: FakeInstruction;
  readonly quantity: number;
  readonly symbol: string;
  readonly assetType: 'EQUITY' | 'OPTION';
  readonly option: OptionSymbol | undefined;
  readonly complexOrderStrategyType: string | undefined;
}

export interface OptionSymbol {
  /** Underlying root as traded, e.g. `AAPL` (no padding). */
  readonly root: string;
  /** Expiration day, `YYYY-MM-DD`. */
  readonly expiration: string;
  readonly putCall: 'PUT' | 'CALL';
  readonly strike: Decimal;
}

const EQUITY_INSTRUCTIONS = new Set<string>(['BUY', 'SELL', 'SELL_SHORT', 'BUY_TO_COVER']);
const OPTION_INSTRUCTIONS = new Set<string>(['BUY_TO_OPEN', 'BUY_TO_CLOSE', 'SELL_TO_OPEN', 'SELL_TO_CLOSE']);
const EQUITY_SYMBOL = /^[A-Z][A-Z0-9]{0,5}([./][A-Z]{1,2})?$/;
/** OCC/Schwab: root padded with spaces to 6, YYMMDD, C|P, strike x1000 in 8 digits. */
const OPTION_SYMBOL = /^([A-Z][A-Z0-9]{0,5}) *(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;

/** Parses `AAPL  240517P00190000`; undefined unless it is exactly 21 characters in that layout. */
export function parseOptionSymbol(symbol: string): OptionSymbol | undefined {
  if (symbol.length !== 21) return undefined;
  const match = OPTION_SYMBOL.exec(symbol);
  if (match === null) return undefined;
  const [, root = '', yy = '', mm = '', dd = '', kind = '', strike = ''] = match;
  if (symbol.slice(0, 6) !== root.padEnd(6, ' ')) return undefined;
  const expiration = `20${yy}-${mm}-${dd}`;
  const date = new Date(`${expiration}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== expiration) return undefined;
  const strikePrice = new Decimal(strike).div(1000);
  if (strikePrice.lte(0)) return undefined;
  return { root, expiration, putCall: kind === 'P' ? 'PUT' : 'CALL', strike: strikePrice };
}

/** The Schwab symbol of an option contract. */
export function optionSymbol(
  root: string,
  expiration: string,
  putCall: 'PUT' | 'CALL',
  strike: Decimal,
): string {
  const yymmdd = expiration.slice(2).replaceAll('-', '');
  const strikeDigits = strike.mul(1000).toFixed(0).padStart(8, '0');
  return `${root.padEnd(6, ' ')}${yymmdd}${putCall === 'PUT' ? 'P' : 'C'}${strikeDigits}`;
}

/** Schwab's price rule: at most 2 decimals, or 4 below $1; positive. */
export function priceProblem(field: string, value: string): string | undefined {
  const price = new Decimal(value);
  if (price.lte(0)) return `${field} must be greater than 0`;
  const allowed = price.lt(1) ? 4 : 2;
  if (price.decimalPlaces() > allowed) {
    return `${field} ${value} has more than ${allowed} decimal places (allowed for prices ${price.lt(1) ? 'below' : 'from'} $1)`;
  }
  return undefined;
}

/** Everything wrong with the order for the real service (or unmodelled by the fake), or the order. */
export function checkOrder(request: OrderRequestView): { problems: string[] } | { order: CheckedOrder } {
  const problems: string[] = [];
  const { orderType, session, duration, orderStrategyType } = request;
  if (orderType === undefined) problems.push('orderType is required');
  if (session === undefined) problems.push('session is required');
  if (duration === undefined) problems.push('duration is required');
  if (orderStrategyType === undefined) problems.push('orderStrategyType is required');
  else if (orderStrategyType !== 'SINGLE') {
    problems.push(`orderStrategyType ${orderStrategyType} is not modelled by the fake (only SINGLE)`);
  }
  const modelledTypes = ['MARKET', 'LIMIT', 'STOP', 'STOP_LIMIT'];
  if (orderType !== undefined && !modelledTypes.includes(orderType)) {
    problems.push(`orderType ${orderType} is not modelled by the fake (only ${modelledTypes.join(', ')})`);
  }
  const needsPrice = orderType === 'LIMIT' || orderType === 'STOP_LIMIT';
  const needsStop = orderType === 'STOP' || orderType === 'STOP_LIMIT';
  if (needsPrice && request.price === undefined) problems.push(`price is required for ${orderType} orders`);
  if (!needsPrice && request.price !== undefined && orderType !== undefined) {
    problems.push(`price is not allowed for ${orderType} orders`);
  }
  if (needsStop && request.stopPrice === undefined)
    problems.push(`stopPrice is required for ${orderType} orders`);
  if (!needsStop && request.stopPrice !== undefined && orderType !== undefined) {
    problems.push(`stopPrice is not allowed for ${orderType} orders`);
  }
  for (const [field, value] of [
    ['price', request.price],
    ['stopPrice', request.stopPrice],
  ] as const) {
    const problem = value === undefined ? undefined : priceProblem(field, value);
    if (problem !== undefined) problems.push(problem);
  }
  if (orderType === 'MARKET' && session !== undefined && session !== 'NORMAL') {
    problems.push('MARKET orders are only accepted for the NORMAL session');
  }
  if (orderType === 'MARKET' && duration !== undefined && duration !== 'DAY') {
    problems.push('MARKET orders must have duration DAY');
  }

  const legs = request.orderLegCollection ?? [];
  if (legs.length === 0) problems.push('orderLegCollection must contain at least one leg');
  if (legs.length > 1) problems.push('orders with more than one leg are not modelled by the fake');
  const leg = legs[0];
  let checkedLeg:
    | Pick<CheckedOrder, 'instruction' | 'quantity' | 'symbol' | 'assetType' | 'option'>
    | undefined;
  if (leg !== undefined) {
    const where = 'orderLegCollection[0]';
    const symbol = leg.instrument?.symbol;
    const assetType = leg.instrument?.assetType;
    const instruction = leg.instruction;
    const before = problems.length;
    if (leg.instrument === undefined) problems.push(`${where}.instrument is required`);
    if (symbol === undefined) problems.push(`${where}.instrument.symbol is required`);
    if (instruction === undefined) problems.push(`${where}.instruction is required`);
    if (leg.quantity === undefined) problems.push(`${where}.quantity is required`);
    else if (!Number.isInteger(leg.quantity) || leg.quantity <= 0) {
      problems.push(`${where}.quantity must be a whole number greater than 0`);
    }
    let option: OptionSymbol | undefined;
    if (assetType === 'EQUITY') {
      if (symbol !== undefined && !EQUITY_SYMBOL.test(symbol)) {
        problems.push(`${where}.instrument.symbol ${JSON.stringify(symbol)} is not a valid equity symbol`);
      }
      if (instruction !== undefined && !EQUITY_INSTRUCTIONS.has(instruction)) {
        problems.push(
          `${where}.instruction ${instruction} is not valid for EQUITY (BUY, SELL, SELL_SHORT, BUY_TO_COVER)`,
        );
      }
    } else if (assetType === 'OPTION') {
      option = symbol === undefined ? undefined : parseOptionSymbol(symbol);
      if (symbol !== undefined && option === undefined) {
        problems.push(
          `${where}.instrument.symbol ${JSON.stringify(symbol)} is not a valid option symbol (root padded to 6, YYMMDD, C|P, strike x1000 in 8 digits, e.g. "AAPL  240517P00190000")`,
        );
      }
      if (instruction !== undefined && !OPTION_INSTRUCTIONS.has(instruction)) {
        problems.push(
          `${where}.instruction ${instruction} is not valid for OPTION (BUY_TO_OPEN, BUY_TO_CLOSE, SELL_TO_OPEN, SELL_TO_CLOSE)`,
        );
      }
    } else if (assetType !== undefined) {
      problems.push(
        `${where}.instrument.assetType ${assetType} is not modelled by the fake (EQUITY, OPTION)`,
      );
    }
    if (
      problems.length === before &&
      symbol !== undefined &&
      instruction !== undefined &&
      leg.quantity !== undefined
    ) {
      checkedLeg = {
        instruction: instruction as FakeInstruction,
        quantity: leg.quantity,
        symbol,
        assetType: assetType === 'OPTION' ? 'OPTION' : 'EQUITY',
        option,
      };
    }
  }
  if (problems.length > 0 || checkedLeg === undefined) return { problems };
  return {
    order: {
      orderType: orderType as FakeOrderType,
      session: session ?? 'NORMAL',
      duration: duration ?? 'DAY',
      price: request.price === undefined ? undefined : new Decimal(request.price),
      stopPrice: request.stopPrice === undefined ? undefined : new Decimal(request.stopPrice),
      complexOrderStrategyType: request.complexOrderStrategyType,
      ...checkedLeg,
    },
  };
}

/** Buys take cash; sells bring it. */
export function isBuy(instruction: FakeInstruction): boolean {
  return (
    instruction === 'BUY' ||
    instruction === 'BUY_TO_COVER' ||
    instruction === 'BUY_TO_OPEN' ||
    instruction === 'BUY_TO_CLOSE'
  );
}
