/**
 * The on-chain state behind the CDP fake: token metadata, balances and ERC-20 allowances per
 * network, in atomic units (bigint, exact). A user operation executes against a `LedgerDraft` and is
 * committed only if every call succeeds, as a reverted operation changes nothing on chain.
 */
import { getAddress } from 'viem';

/** EIP-7528's address for a network's native token (ETH). */
export const NATIVE_TOKEN = '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE';
/** Uniswap's Permit2, the spender CDP swaps need an ERC-20 allowance for. */
export const PERMIT2_ADDRESS = '0x000000000022D473030F116dDEE9F6B43aC78BA3';

export interface FakeToken {
  readonly contractAddress: string;
  readonly symbol: string;
  readonly name?: string;
  readonly decimals: number;
}

const NATIVE: FakeToken = { contractAddress: NATIVE_TOKEN, symbol: 'ETH', name: 'Ether', decimals: 18 };

/** What executing calls needs from the books; the ledger and its drafts both provide it. */
export interface Books {
  balance(network: string, holder: string, token: string): bigint;
  setBalance(network: string, holder: string, token: string, amount: bigint): void;
  allowance(network: string, owner: string, token: string, spender: string): bigint;
  setAllowance(network: string, owner: string, token: string, spender: string, amount: bigint): void;
}

const key = (...parts: string[]) => parts.map((part) => part.toLowerCase()).join('|');

export class Ledger implements Books {
  private readonly tokens = new Map<string, FakeToken>();
  private readonly balances = new Map<string, bigint>();
  private readonly allowances = new Map<string, bigint>();

  /** Registers (or replaces) a token's metadata on a network. Native ETH is known everywhere. */
  addToken(network: string, token: FakeToken): void {
    this.tokens.set(key(network, token.contractAddress), {
      ...token,
      contractAddress: getAddress(token.contractAddress),
    });
  }

  token(network: string, address: string): FakeToken | undefined {
    const known = this.tokens.get(key(network, address));
    if (known !== undefined) return known;
    return address.toLowerCase() === NATIVE_TOKEN.toLowerCase() ? NATIVE : undefined;
  }

  balance(network: string, holder: string, token: string): bigint {
    return this.balances.get(key(network, holder, token)) ?? 0n;
  }

  setBalance(network: string, holder: string, token: string, amount: bigint): void {
    if (amount < 0n) throw new Error('a balance cannot be negative');
    this.balances.set(key(network, holder, token), amount);
  }

  allowance(network: string, owner: string, token: string, spender: string): bigint {
    return this.allowances.get(key(network, owner, token, spender)) ?? 0n;
  }

  setAllowance(network: string, owner: string, token: string, spender: string, amount: bigint): void {
    this.allowances.set(key(network, owner, token, spender), amount);
  }

  /**
   * A holder's balances on a network, in the order they were first set. A token once held stays
   * listed at "0" (zero amounts are ordinary elements of CDP's list); one never held is not listed.
   */
  holdings(network: string, holder: string): { token: FakeToken; amount: bigint }[] {
    const prefix = key(network, holder);
    const result: { token: FakeToken; amount: bigint }[] = [];
    for (const [entry, amount] of this.balances) {
      if (!entry.startsWith(`${prefix}|`)) continue;
      const address = entry.slice(prefix.length + 1);
      const token = this.token(network, address) ?? {
        contractAddress: getAddress(address),
        symbol: '',
        decimals: 0,
      };
      result.push({ token, amount });
    }
    return result;
  }

  draft(): LedgerDraft {
    return new LedgerDraft(this);
  }
}

/** Writes kept aside until `commit()`; reads see them over the ledger. */
export class LedgerDraft implements Books {
  private readonly balances = new Map<string, { args: [string, string, string]; amount: bigint }>();
  private readonly allowances = new Map<string, { args: [string, string, string, string]; amount: bigint }>();

  constructor(private readonly ledger: Ledger) {}

  balance(network: string, holder: string, token: string): bigint {
    return (
      this.balances.get(key(network, holder, token))?.amount ?? this.ledger.balance(network, holder, token)
    );
  }

  setBalance(network: string, holder: string, token: string, amount: bigint): void {
    if (amount < 0n) throw new Error('a balance cannot be negative');
    this.balances.set(key(network, holder, token), { args: [network, holder, token], amount });
  }

  allowance(network: string, owner: string, token: string, spender: string): bigint {
    return (
      this.allowances.get(key(network, owner, token, spender))?.amount ??
      this.ledger.allowance(network, owner, token, spender)
    );
  }

  setAllowance(network: string, owner: string, token: string, spender: string, amount: bigint): void {
    this.allowances.set(key(network, owner, token, spender), {
      args: [network, owner, token, spender],
      amount,
    });
  }

  commit(): void {
    for (const { args, amount } of this.balances.values()) this.ledger.setBalance(...args, amount);
    for (const { args, amount } of this.allowances.values()) this.ledger.setAllowance(...args, amount);
  }
}
