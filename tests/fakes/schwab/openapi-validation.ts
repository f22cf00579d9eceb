/**
 * Schwab's published OpenAPI 3.0 documents (copied verbatim into ./spec) turned into ajv validators:
 * the fake checks order requests against them, and its own tests check every answer it gives.
 *
 * OpenAPI 3.0 is not JSON Schema, and Schwab's documents have defects that contradict what the
 * service really sends and accepts. Each correction below is deliberate and says why; everything
 * else is validated as published. The documents are normalized once and validators compiled once.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export type SchwabApi = 'trader' | 'marketdata';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SPEC_FILES: Record<SchwabApi, string> = {
  trader: 'trader_api.openapi.json',
  marketdata: 'market_data.openapi.json',
};

/** Absolute ids under which each normalized document is registered, so extracted parts resolve. */
const DOCUMENT_IDS: Record<SchwabApi, string> = {
  trader: 'https://schwab.fake/trader.json',
  marketdata: 'https://schwab.fake/marketdata.json',
};

/** OpenAPI annotations that are not JSON Schema keywords (dropped, they assert nothing). */
const ANNOTATIONS = new Set([
  'xml',
  'example',
  'examples',
  'readOnly',
  'writeOnly',
  'deprecated',
  'externalDocs',
]);

/** ISO-8601 date-time with an offset written `Z`, `+hh:mm` or `+hhmm` (Schwab's own form). */
export const SCHWAB_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** A decimal string as Schwab wants prices in requests: digits, optional fraction, no sign/exponent. */
export const DECIMAL_STRING_PATTERN = '^\\d+(\\.\\d+)?$';

/**
 * Corrections to the published documents, each for a defect that would otherwise reject correct
 * traffic or accept wrong traffic.
 */
function correctTrader(schemas: JsonObject): void {
  // `required: ["name", "assetType"]`, but `name` is not a property; no client sends it.
  patch(schemas, 'AccountsBaseInstrument', (schema) => {
    schema['required'] = ['assetType'];
  });
  // The document types request prices as doubles; the service takes decimal strings (2 decimals,
  // 4 below $1), which is what well-known clients send. Binary doubles like 0.1+0.2 are refused
  // here on purpose: a client that passes this fake sends strings.
  patch(schemas, 'OrderRequest', (schema) => {
    const properties = schema['properties'] as JsonObject;
    for (const name of ['price', 'stopPrice']) {
      properties[name] = { type: 'string', pattern: DECIMAL_STRING_PATTERN };
    }
    // Stricter than the document: an unknown top-level field (a misspelling, or a `clientOrderId`
    // that Schwab does not have) is an error rather than silently ignored.
    schema['additionalProperties'] = false;
  });
  patch(schemas, 'OrderLegCollection', (schema) => {
    schema['additionalProperties'] = false;
  });
}

function correctMarketData(schemas: JsonObject): void {
  // The service maps each strike to an ARRAY of contracts ("190.0": [{...}]); the document says object.
  patch(schemas, 'OptionContractMap', (schema) => {
    schema['additionalProperties'] = {
      type: 'array',
      items: { $ref: '#/components/schemas/OptionContract' },
    };
  });
  // The document's schema names an expiration's day `expiration`; its own example and the service
  // write `expirationDate` (a date). Both are checked as dates; the fake sends `expirationDate`.
  patch(schemas, 'Expiration', (schema) => {
    const properties = schema['properties'] as JsonObject;
    properties['expiration'] = { type: 'string', format: 'date' };
    properties['expirationDate'] = { type: 'string', format: 'date' };
  });
  // A oneOf of schemas without required fields matches several branches for any object, so the
  // document rejects every quote. Dispatch on assetMainType instead; the `errors` entry has none.
  patch(schemas, 'QuoteResponseObject', (schema) => {
    delete schema['oneOf'];
    const branches: [string, string][] = [
      ['EQUITY', 'EquityResponse'],
      ['OPTION', 'OptionResponse'],
      ['FOREX', 'ForexResponse'],
      ['FUTURE', 'FutureResponse'],
      ['FUTURE_OPTION', 'FutureOptionResponse'],
      ['INDEX', 'IndexResponse'],
      ['MUTUAL_FUND', 'MutualFundResponse'],
    ];
    schema['allOf'] = [
      ...branches.map(([tag, target]) =>
        conditional(
          { required: ['assetMainType'], properties: { assetMainType: { const: tag } } },
          { $ref: `#/components/schemas/${target}` },
        ),
      ),
      conditional(
        { not: { required: ['assetMainType'] } },
        {
          allOf: [{ $ref: '#/components/schemas/QuoteError' }],
          additionalProperties: false,
          properties: { invalidCusips: true, invalidSSIDs: true, invalidSymbols: true },
        },
      ),
    ];
  });
}

/** JSON Schema `if`/`then`, built from entries so the object is not mistaken for a thenable. */
function conditional(condition: Json, consequence: Json): JsonObject {
  return Object.fromEntries([
    ['if', condition],
    ['then', consequence],
  ]) as JsonObject;
}

function patch(schemas: JsonObject, name: string, change: (schema: JsonObject) => void): void {
  const schema = schemas[name];
  if (schema === undefined || schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new Error(`Schwab spec: schema ${name} not found; the correction is stale`);
  }
  change(schema);
}

/** OpenAPI 3.0 schema object -> JSON Schema (draft-07) for ajv. */
function normalizeSchema(node: Json, documentId: string): Json {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((item) => normalizeSchema(item, documentId));
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (ANNOTATIONS.has(key) || key === 'discriminator' || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') {
      out[key] = value.startsWith('#') ? `${documentId}${value}` : value;
    } else if (key === 'properties' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [name, normalizeSchema(schema, documentId)]),
      );
    } else {
      out[key] = normalizeSchema(value, documentId);
    }
  }
  if (node['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  const discriminator = node['discriminator'];
  if (
    discriminator !== null &&
    typeof discriminator === 'object' &&
    !Array.isArray(discriminator) &&
    Array.isArray(out['oneOf'])
  ) {
    // oneOf over allOf-extensions of one base matches several branches; dispatch on the tag instead.
    const property = String(discriminator['propertyName']);
    const mapping = discriminator['mapping'];
    if (mapping !== null && typeof mapping === 'object' && !Array.isArray(mapping)) {
      delete out['oneOf'];
      out['type'] = 'object';
      out['required'] = [property];
      out['properties'] = { [property]: { enum: Object.keys(mapping) } };
      out['allOf'] = Object.entries(mapping).map(([tag, target]) =>
        conditional(
          { required: [property], properties: { [property]: { const: tag } } },
          { $ref: `${documentId}${String(target)}` },
        ),
      );
    }
  }
  return out;
}

interface LoadedDocument {
  readonly raw: JsonObject;
}

export class SchwabSchemas {
  private readonly ajv: Ajv;
  private readonly documents = new Map<SchwabApi, LoadedDocument>();
  private readonly compiled = new Map<string, ValidateFunction>();

  private constructor() {
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
    addFormats(this.ajv);
    const integer = (min: number, max: number) => ({
      type: 'number' as const,
      validate: (value: number) => Number.isInteger(value) && value >= min && value <= max,
    });
    this.ajv.addFormat('int32', integer(-(2 ** 31), 2 ** 31 - 1));
    this.ajv.addFormat('int64', integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    for (const name of ['double', 'float', 'long', 'int', 'integer']) {
      this.ajv.addFormat(name, { type: 'number', validate: () => true });
    }
    // Names the market-data document uses as formats; they constrain nothing beyond `type`.
    this.ajv.addFormat('yyyy-MM-dd', /^\d{4}-\d{2}-\d{2}$/);
    this.ajv.addFormat("yyyy-MM-dd'T'HH:mm:ssZ", true);
    // Schwab writes offsets without a colon (`2024-05-10T14:30:00+0000`); RFC 3339 requires one.
    this.ajv.addFormat('date-time', SCHWAB_DATE_TIME);
    for (const api of ['trader', 'marketdata'] as const) {
      const raw = JSON.parse(
        readFileSync(new URL(`./spec/${SPEC_FILES[api]}`, import.meta.url), 'utf8'),
      ) as JsonObject;
      const components = raw['components'] as JsonObject;
      const schemas = components['schemas'] as JsonObject;
      if (api === 'trader') correctTrader(schemas);
      else correctMarketData(schemas);
      const normalized = {
        $id: DOCUMENT_IDS[api],
        components: {
          schemas: Object.fromEntries(
            Object.entries(schemas).map(([name, schema]) => [
              name,
              normalizeSchema(schema, DOCUMENT_IDS[api]),
            ]),
          ),
        },
      };
      this.ajv.addSchema(normalized);
      this.documents.set(api, { raw });
    }
  }

  private static instance: SchwabSchemas | undefined;

  /** One compiled set per process: compiling the documents is the slow part. */
  static get(): SchwabSchemas {
    SchwabSchemas.instance ??= new SchwabSchemas();
    return SchwabSchemas.instance;
  }

  /** Errors of `value` against a named component schema, e.g. ('trader', 'OrderRequest'). */
  validateComponent(api: SchwabApi, name: string, value: unknown): string[] {
    return this.run(
      `${api}:component:${name}`,
      { $ref: `${DOCUMENT_IDS[api]}#/components/schemas/${name}` },
      value,
    );
  }

  /**
   * Errors of a response body against what the document declares for that operation and status,
   * e.g. ('trader', 'GET', '/accounts/{accountNumber}/orders', 200). Throws when the document
   * declares no JSON body there (a mistake in the test, not in the answer).
   */
  validateResponse(
    api: SchwabApi,
    method: string,
    pathTemplate: string,
    status: number,
    body: unknown,
  ): string[] {
    const key = `${api}:response:${method}:${pathTemplate}:${status}`;
    const compiled = this.compiled.get(key);
    if (compiled !== undefined) return this.errorsOf(compiled, body);
    const document = this.documents.get(api)?.raw;
    const operation = lookup(document, ['paths', pathTemplate, method.toLowerCase()]);
    let response = lookup(operation, ['responses', String(status)]);
    const ref = lookup(response, ['$ref']);
    if (typeof ref === 'string') response = lookup(document, ref.replace(/^#\//, '').split('/'));
    const schema = lookup(response, ['content', 'application/json', 'schema']);
    if (schema === undefined) {
      throw new Error(`Schwab spec: no JSON response for ${method} ${pathTemplate} ${status} in ${api}`);
    }
    return this.run(key, normalizeSchema(schema, DOCUMENT_IDS[api]), body);
  }

  private run(key: string, schema: Json, value: unknown): string[] {
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(schema as object);
      this.compiled.set(key, validate);
    }
    return this.errorsOf(validate, value);
  }

  private errorsOf(validate: ValidateFunction, value: unknown): string[] {
    if (validate(value)) return [];
    return describeErrors(validate.errors ?? []);
  }
}

/** ajv errors as one line each, `/orderLegCollection/0/instruction must be equal to one of ...`. */
function describeErrors(errors: readonly ErrorObject[]): string[] {
  const lines = errors
    // `if` failures only say which branch did not apply; the branch's own errors are listed too.
    .filter((error) => error.keyword !== 'if')
    .map((error) => {
      const where = error.instancePath === '' ? '(body)' : error.instancePath;
      const allowed =
        error.keyword === 'enum'
          ? `: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
          : '';
      const extra =
        error.keyword === 'additionalProperties'
          ? ` (${(error.params as { additionalProperty: string }).additionalProperty})`
          : '';
      return `${where} ${error.message ?? error.keyword}${allowed}${extra}`;
    });
  return [...new Set(lines)];
}

function lookup(node: unknown, path: readonly string[]): Json | undefined {
  let current: unknown = node;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current as Json | undefined;
}
