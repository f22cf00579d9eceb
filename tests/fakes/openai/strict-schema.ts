/**
 * The rules OpenAI applies to `strict: true` function parameters (Structured Outputs subset): the
 * root is an object; every object lists all its properties in `required` and sets
 * `additionalProperties: false`; optional values are expressed as `anyOf [..., {type: null}]`;
 * oneOf/allOf/not and conditionals are not supported. Used by the fake server and by unit tests.
 */

const SUPPORTED_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const UNSUPPORTED_KEYWORDS = ['oneOf', 'allOf', 'not', 'if', 'then', 'else', 'patternProperties'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function contextOf(path: readonly string[]): string {
  return `context=(${path.map((part) => `'${part}'`).join(', ')})`;
}

/** Returns OpenAI-style problem descriptions; empty when the schema is strict-valid. */
export function findStrictSchemaProblems(schema: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(schema)) return ['schema must be a JSON object'];
  if (schema['type'] !== 'object' || 'anyOf' in schema) {
    problems.push(
      `In ${contextOf([])}, schema must be a JSON Schema of 'type: "object"', got 'type: "${String(schema['type'])}"'.`,
    );
  }
  visit(schema, [], problems);
  return problems;
}

function visit(node: unknown, path: readonly string[], problems: string[]): void {
  if (!isRecord(node)) {
    problems.push(`In ${contextOf(path)}, schema must be an object.`);
    return;
  }
  for (const keyword of UNSUPPORTED_KEYWORDS) {
    if (keyword in node) problems.push(`In ${contextOf(path)}, '${keyword}' is not permitted.`);
  }
  const type = node['type'];
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  for (const entry of types) {
    if (typeof entry !== 'string' || !SUPPORTED_TYPES.has(entry)) {
      problems.push(`In ${contextOf(path)}, type '${String(entry)}' is not supported.`);
    }
  }
  if (
    types.length === 0 &&
    !('anyOf' in node) &&
    !('$ref' in node) &&
    !('enum' in node) &&
    !('const' in node)
  ) {
    problems.push(`In ${contextOf(path)}, schema must have a 'type' key.`);
  }

  if (types.includes('object')) {
    const properties = node['properties'];
    if (!isRecord(properties)) {
      problems.push(`In ${contextOf(path)}, 'properties' is required to be supplied.`);
    } else {
      const required = node['required'];
      const keys = Object.keys(properties);
      if (!Array.isArray(required)) {
        problems.push(
          `In ${contextOf(path)}, 'required' is required to be supplied and to be an array including every key in properties.`,
        );
      } else {
        const missing = keys.filter((key) => !required.includes(key));
        if (missing.length > 0) {
          problems.push(
            `In ${contextOf(path)}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing.join("', '")}'.`,
          );
        }
        const extra = required.filter((key) => typeof key !== 'string' || !keys.includes(key));
        if (extra.length > 0) {
          problems.push(`In ${contextOf(path)}, 'required' lists unknown keys: '${extra.join("', '")}'.`);
        }
      }
      for (const [key, value] of Object.entries(properties))
        visit(value, [...path, 'properties', key], problems);
    }
    if (node['additionalProperties'] !== false) {
      problems.push(
        `In ${contextOf(path)}, 'additionalProperties' is required to be supplied and to be false.`,
      );
    }
  }
  if (types.includes('array') && 'items' in node) visit(node['items'], [...path, 'items'], problems);
  const anyOf = node['anyOf'];
  if (anyOf !== undefined) {
    if (!Array.isArray(anyOf) || anyOf.length === 0) {
      problems.push(`In ${contextOf(path)}, 'anyOf' must be a non-empty array.`);
    } else {
      anyOf.forEach((branch, index) => {
        visit(branch, [...path, 'anyOf', String(index)], problems);
      });
    }
  }
  for (const defsKey of ['$defs', 'definitions']) {
    const defs = node[defsKey];
    if (isRecord(defs)) {
      for (const [key, value] of Object.entries(defs)) visit(value, [...path, defsKey, key], problems);
    }
  }
}
