/** CDP's documented error answer: `{ errorType, errorMessage, correlationId }` with an HTTP status. */
import { randomUUID } from 'node:crypto';

export interface CdpErrorBody {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly correlationId: string;
}

export class CdpHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }

  body(): CdpErrorBody {
    return errorBody(this.errorType, this.message);
  }
}

export function errorBody(errorType: string, errorMessage: string): CdpErrorBody {
  return { errorType, errorMessage, correlationId: randomUUID() };
}

/** The errorType CDP pairs with a status, for injected failures without a body of their own. */
export function errorTypeFor(status: number): string {
  return ERROR_TYPES[status] ?? 'internal_server_error';
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'already_exists',
  422: 'idempotency_error',
  429: 'rate_limit_exceeded',
  500: 'internal_server_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'timed_out',
};

export const invalidRequest = (message: string) => new CdpHttpError(400, 'invalid_request', message);
export const notFound = (message: string) => new CdpHttpError(404, 'not_found', message);
