/**
 * A wallet's token balances on one network, from CDP's onchain data API
 * (`GET /v2/data/evm/token-balances/{network}/{address}`), read directly instead of through the
 * SDK's `listTokenBalances`: the SDK converts every listed amount with BigInt before we see the
 * list, so one element it cannot convert (an amount that is null, or not an integer) would fail the
 * whole listing. Here each element is parsed on its own (../http/parse-list.ts): one we cannot read
 * is skipped and logged, the others are used. Every page is followed (`nextPageToken`).
 *
 * The documented element: `{amount: {amount: "<integer string>", decimals}, token: {network,
 * contractAddress, symbol?, name?}}`. A token without metadata has no (or a null) symbol and name,
 * and a zero amount is an ordinary element.
 */
import { z } from 'zod';
import { Decimal } from '../../core/domain/values.js';
import type { Logger } from '../../core/logging/logger.js';
import { firstIdField, parseList, rawList } from '../http/parse-list.js';
import type { CdpWallets } from './cdp-wallets.js';

/** The largest page CDP serves, and the most pages we follow. */
const PAGE_SIZE = '100';
const MAX_PAGES = 20;

/** One listed balance, as we use it. */
export interface TokenBalance {
  readonly contractAddress: string;
  /** In whole tokens (the listed integer amount over 10^decimals). */
  readonly quantity: Decimal;
}

const tokenBalanceSchema = z
  .object({
    amount: z.object({
      amount: z.string().regex(/^\d+$/, 'must be an integer string'),
      decimals: z.number().int().min(0).max(255),
    }),
    token: z.object({
      contractAddress: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an EVM address'),
      symbol: z.string().nullish(),
      name: z.string().nullish(),
    }),
  })
  .transform(
    ({ amount, token }): TokenBalance => ({
      contractAddress: token.contractAddress,
      quantity: new Decimal(amount.amount).div(new Decimal(10).pow(amount.decimals)),
    }),
  );

const pageSchema = z.object({ balances: rawList, nextPageToken: z.string().nullish() });

const balanceId = firstIdField(['token', 'contractAddress'], ['token', 'symbol']);

/**
 * Every balance CDP lists for `address` on `network`, zero ones included.
 * @throws CdpApiError for an error answer; a ZodError when a page is not a page of balances
 */
export async function listTokenBalances(
  wallets: Pick<CdpWallets, 'getJson'>,
  request: { readonly network: string; readonly address: string },
  logger: Logger | undefined,
): Promise<TokenBalance[]> {
  const path = `/v2/data/evm/token-balances/${encodeURIComponent(request.network)}/${encodeURIComponent(request.address)}`;
  const balances: TokenBalance[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = pageSchema.parse(await wallets.getJson(path, { pageSize: PAGE_SIZE, pageToken }));
    balances.push(
      ...parseList(answer.balances, tokenBalanceSchema, {
        provider: 'cdp_wallet',
        list: 'token balances',
        idOf: balanceId,
        logger,
        context: { network: request.network },
      }),
    );
    if (!answer.nextPageToken) break;
    pageToken = answer.nextPageToken;
  }
  return balances;
}
