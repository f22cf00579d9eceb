/**
 * The wallet side of the CDP fake: server EVM accounts (each a real secp256k1 key, so addresses
 * are real and every signature recovers to its account), smart accounts, and ERC-4337 user
 * operations with their lifecycle: prepare -> `pending`; send with the owner's signature of the
 * userOpHash -> `broadcast`; after `settleAfterPolls` reads (or `settle()`) the calls execute and
 * the operation is `complete`, or `failed` when a call reverts or a failure was injected.
 */
import { randomBytes } from 'node:crypto';
import {
  type Address,
  getAddress,
  type Hex,
  isAddressEqual,
  keccak256,
  recoverAddress,
  type TypedDataDefinition,
} from 'viem';
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import type { z } from 'zod';
import { CdpHttpError, invalidRequest, notFound } from './errors.js';
import { executeCalls, Revert } from './execution.js';
import type { Ledger } from './ledger.js';
import type {
  createEvmAccountBody,
  createEvmSmartAccountBody,
  EvmCall,
  eip712MessageBody,
  prepareUserOperationBody,
  sendUserOperationBody,
} from './schemas.js';
import type { SwapDesk } from './swaps.js';

/** How long a prepared operation may wait for its signature (CDP documents 2 minutes). */
const PREPARED_LIFETIME_MS = 120_000;

export type UserOperationStatus = 'pending' | 'broadcast' | 'complete' | 'failed';

/** A user operation as the test sees it. */
export interface FakeUserOperation {
  readonly userOpHash: Hex;
  readonly smartAccount: Address;
  readonly network: string;
  readonly calls: readonly EvmCall[];
  readonly status: UserOperationStatus;
  /** The paymasterUrl the request named (the SDK fills in CDP's own on base). */
  readonly paymasterUrl: string | undefined;
  /** Whether gas was sponsored: a paymaster was named, or the network is base-sepolia. */
  readonly sponsored: boolean;
  /** GETs of the operation while it was broadcast. */
  readonly polls: number;
  readonly failureReason: string | undefined;
  readonly transactionHash: Hex | undefined;
}

interface ServerAccount {
  readonly signer: PrivateKeyAccount;
  readonly name: string | undefined;
  readonly createdAt: string;
}

interface SmartAccount {
  readonly address: Address;
  readonly owners: Address[];
  readonly name: string | undefined;
  readonly createdAt: string;
}

interface Operation {
  readonly userOpHash: Hex;
  readonly smartAccount: SmartAccount;
  readonly network: string;
  readonly calls: EvmCall[];
  readonly paymasterUrl: string | undefined;
  readonly expiresAt: Date;
  status: UserOperationStatus;
  polls: number;
  failureReason: string | undefined;
  transactionHash: Hex | undefined;
  receipts: Record<string, unknown>[];
  /** Set while the calls execute, so concurrent reads settle the operation once. */
  settling: Promise<void> | undefined;
}

export class FakeWallet {
  /** Reads of a broadcast operation before it lands; 0 settles on send; Infinity waits for `settle()`. */
  settleAfterPolls = 1;
  private readonly accounts = new Map<string, ServerAccount>();
  private readonly smartAccounts = new Map<string, SmartAccount>();
  private readonly operations = new Map<string, Operation>();
  private readonly injectedFailures: string[] = [];
  private block = 30_000_000n;

  constructor(
    private readonly ledger: Ledger,
    private readonly desk: SwapDesk,
    private readonly now: () => Date,
  ) {}

  blockNumber(): bigint {
    return this.block;
  }

  // ------------------------------------------------------------------ server accounts

  createAccount(body: z.infer<typeof createEvmAccountBody>): Record<string, unknown> {
    if (body.name !== undefined && this.findByName(this.accounts.values(), body.name)) {
      throw new CdpHttpError(409, 'already_exists', `an EVM account named ${body.name} exists`);
    }
    const signer = privateKeyToAccount(generatePrivateKey());
    const account = { signer, name: body.name, createdAt: this.now().toISOString() };
    this.accounts.set(signer.address.toLowerCase(), account);
    return renderAccount(account);
  }

  account(address: string): Record<string, unknown> {
    return renderAccount(this.serverAccount(address));
  }

  accountByName(name: string): Record<string, unknown> {
    const account = this.findByName(this.accounts.values(), name);
    if (account === undefined) throw notFound(`no EVM account named ${name}`);
    return renderAccount(account);
  }

  /** Signs a 32-byte hash directly (no EIP-191 prefix), as CDP's sign endpoint does. */
  async signHash(address: string, hash: Hex): Promise<{ signature: Hex }> {
    return { signature: await this.serverAccount(address).signer.sign({ hash }) };
  }

  async signTypedData(
    address: string,
    typedData: z.infer<typeof eip712MessageBody>,
  ): Promise<{ signature: Hex }> {
    const { signer } = this.serverAccount(address);
    try {
      return { signature: await signer.signTypedData(typedData as unknown as TypedDataDefinition) };
    } catch (error) {
      throw invalidRequest(`invalid typed data: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ------------------------------------------------------------------ smart accounts

  createSmartAccount(body: z.infer<typeof createEvmSmartAccountBody>): Record<string, unknown> {
    if (body.name !== undefined && this.findByName(this.smartAccounts.values(), body.name)) {
      throw new CdpHttpError(409, 'already_exists', `a smart account named ${body.name} exists`);
    }
    const owners = body.owners.map((owner) => getAddress(owner));
    // Counterfactual-looking address: owner-derived, unique per creation.
    const seed = `${owners.join('')}${this.smartAccounts.size}${randomBytes(8).toString('hex')}`;
    const address = getAddress(`0x${keccak256(Buffer.from(seed)).slice(-40)}`);
    const account = { address, owners, name: body.name, createdAt: this.now().toISOString() };
    this.smartAccounts.set(address.toLowerCase(), account);
    return renderSmartAccount(account);
  }

  smartAccount(address: string): Record<string, unknown> {
    return renderSmartAccount(this.findSmartAccount(address));
  }

  smartAccountByName(name: string): Record<string, unknown> {
    const account = this.findByName(this.smartAccounts.values(), name);
    if (account === undefined) throw notFound(`no smart account named ${name}`);
    return renderSmartAccount(account);
  }

  // ------------------------------------------------------------------ user operations

  prepareUserOperation(
    address: string,
    body: z.infer<typeof prepareUserOperationBody>,
  ): Record<string, unknown> {
    const smartAccount = this.findSmartAccount(address);
    const userOpHash = keccak256(randomBytes(32));
    const operation: Operation = {
      userOpHash,
      smartAccount,
      network: body.network,
      calls: body.calls.map((call) => ({ ...call, to: getAddress(call.to) })),
      paymasterUrl: body.paymasterUrl,
      expiresAt: new Date(this.now().getTime() + PREPARED_LIFETIME_MS),
      status: 'pending',
      polls: 0,
      failureReason: undefined,
      transactionHash: undefined,
      receipts: [],
      settling: undefined,
    };
    this.operations.set(userOpHash, operation);
    return renderOperation(operation);
  }

  async sendUserOperation(
    address: string,
    userOpHash: string,
    body: z.infer<typeof sendUserOperationBody>,
  ): Promise<Record<string, unknown>> {
    const operation = this.findOperation(address, userOpHash);
    if (operation.status !== 'pending') {
      throw invalidRequest(`user operation is ${operation.status}, not pending`);
    }
    if (this.now() > operation.expiresAt) throw invalidRequest('user operation expired before it was sent');
    let signer: Address | undefined;
    try {
      signer = await recoverAddress({ hash: operation.userOpHash, signature: body.signature as Hex });
    } catch {
      signer = undefined;
    }
    const owners = operation.smartAccount.owners;
    if (signer === undefined || !owners.some((owner) => isAddressEqual(owner, signer))) {
      throw new CdpHttpError(
        400,
        'invalid_signature',
        'signature is not an owner’s signature of the userOpHash',
      );
    }
    // Re-checked after the await: a concurrent send may have won.
    if (operation.status !== 'pending') {
      throw invalidRequest(`user operation is ${operation.status}, not pending`);
    }
    operation.status = 'broadcast';
    if (this.settleAfterPolls <= 0) await this.settleOperation(operation);
    return renderOperation(operation);
  }

  async getUserOperation(address: string, userOpHash: string): Promise<Record<string, unknown>> {
    const operation = this.findOperation(address, userOpHash);
    if (operation.status === 'broadcast') {
      operation.polls += 1;
      if (operation.polls >= this.settleAfterPolls) await this.settleOperation(operation);
    }
    return renderOperation(operation);
  }

  /** The next operation to land fails with this revert reason. */
  failNextUserOperation(reason: string): void {
    this.injectedFailures.push(reason);
  }

  /** Lands every broadcast operation now; resolves to how many landed. */
  async settle(): Promise<number> {
    const waiting = [...this.operations.values()].filter((operation) => operation.status === 'broadcast');
    for (const operation of waiting) await this.settleOperation(operation);
    return waiting.length;
  }

  userOperations(): FakeUserOperation[] {
    return [...this.operations.values()].map((operation) => ({
      userOpHash: operation.userOpHash,
      smartAccount: operation.smartAccount.address,
      network: operation.network,
      calls: operation.calls.map((call) => ({ ...call })),
      status: operation.status,
      paymasterUrl: operation.paymasterUrl,
      sponsored: operation.paymasterUrl !== undefined || operation.network === 'base-sepolia',
      polls: operation.polls,
      failureReason: operation.failureReason,
      transactionHash: operation.transactionHash,
    }));
  }

  private settleOperation(operation: Operation): Promise<void> {
    operation.settling ??= this.land(operation);
    return operation.settling;
  }

  private async land(operation: Operation): Promise<void> {
    const draft = this.ledger.draft();
    let failure = this.injectedFailures.shift();
    if (failure === undefined) {
      try {
        const effects = await executeCalls(
          {
            books: draft,
            desk: this.desk,
            network: operation.network,
            sender: operation.smartAccount.address,
            owners: operation.smartAccount.owners,
            now: this.now(),
          },
          operation.calls,
        );
        draft.commit();
        for (const effect of effects) effect();
      } catch (error) {
        if (!(error instanceof Revert)) throw error;
        failure = error.message;
      }
    }
    this.block += 1n;
    const transactionHash = keccak256(randomBytes(32));
    operation.transactionHash = transactionHash;
    operation.failureReason = failure;
    operation.status = failure === undefined ? 'complete' : 'failed';
    operation.receipts = [
      {
        ...(failure === undefined ? {} : { revert: { data: '0x', message: failure } }),
        transactionHash,
        blockHash: keccak256(randomBytes(32)),
        blockNumber: Number(this.block),
        gasUsed: '150000',
      },
    ];
  }

  private serverAccount(address: string): ServerAccount {
    const account = this.accounts.get(address.toLowerCase());
    if (account === undefined) throw notFound(`no EVM account ${address}`);
    return account;
  }

  private findSmartAccount(address: string): SmartAccount {
    const account = this.smartAccounts.get(address.toLowerCase());
    if (account === undefined) throw notFound(`no smart account ${address}`);
    return account;
  }

  private findOperation(address: string, userOpHash: string): Operation {
    const smartAccount = this.findSmartAccount(address);
    const operation = this.operations.get(userOpHash.toLowerCase() as Hex);
    if (operation === undefined || operation.smartAccount !== smartAccount) {
      throw notFound(`no user operation ${userOpHash} on ${address}`);
    }
    return operation;
  }

  private findByName<T extends { readonly name: string | undefined }>(
    accounts: Iterable<T>,
    name: string,
  ): T | undefined {
    for (const account of accounts) if (account.name === name) return account;
    return undefined;
  }
}

function renderAccount(account: ServerAccount): Record<string, unknown> {
  return {
    address: account.signer.address,
    ...(account.name === undefined ? {} : { name: account.name }),
    policies: [],
    createdAt: account.createdAt,
    updatedAt: account.createdAt,
  };
}

function renderSmartAccount(account: SmartAccount): Record<string, unknown> {
  return {
    address: account.address,
    owners: account.owners,
    ...(account.name === undefined ? {} : { name: account.name }),
    policies: [],
    createdAt: account.createdAt,
    updatedAt: account.createdAt,
  };
}

function renderOperation(operation: Operation): Record<string, unknown> {
  const landed = operation.status === 'complete' || operation.status === 'failed';
  return {
    network: operation.network,
    userOpHash: operation.userOpHash,
    calls: operation.calls,
    status: operation.status,
    ...(landed ? { transactionHash: operation.transactionHash, receipts: operation.receipts } : {}),
    expiresAt: operation.expiresAt.toISOString(),
  };
}
