/**
 * Telegram's `parse_mode: "HTML"` as the Bot API documents it, for the fake server: only the
 * supported tags, properly nested and closed, and `<`, `>`, `&` outside tags written as one of the
 * four named entities or a numeric one. Anything else is the API's "can't parse entities" error,
 * which is exactly the mistake an adapter that forgets to escape user text makes.
 */

/** One formatting span of the visible text (offsets in UTF-16 code units, as Telegram counts). */
export interface TextEntity {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
  readonly url?: string;
}

export type ParsedHtml =
  | { readonly ok: true; readonly text: string; readonly entities: readonly TextEntity[] }
  | { readonly ok: false; readonly problem: string };

const TAG_ENTITY: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

const ENTITY_PATTERN = /^&(?:(lt|gt|amp|quot)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/;
const TAG_PATTERN =
  /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*>/;
const ATTRIBUTE_PATTERN = /([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

function attributes(source: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE_PATTERN)) {
    const name = match[1]?.toLowerCase();
    if (name) found.set(name, match[2] ?? match[3] ?? match[4] ?? '');
  }
  return found;
}

function decodeAttribute(value: string): string {
  return value.replace(/&(lt|gt|amp|quot);/g, (_all, name: string) => NAMED_ENTITIES[name] ?? '');
}

/** Parses Bot API HTML into visible text and entities, or says why Telegram would refuse it. */
export function parseTelegramHtml(html: string): ParsedHtml {
  let text = '';
  const entities: TextEntity[] = [];
  const open: { name: string; type: string; offset: number; url?: string }[] = [];
  let index = 0;
  const byteOffset = (at: number) => Buffer.byteLength(html.slice(0, at), 'utf8');
  const fail = (problem: string): ParsedHtml => ({ ok: false, problem: `can't parse entities: ${problem}` });

  while (index < html.length) {
    const char = html[index] ?? '';
    if (char === '&') {
      const match = ENTITY_PATTERN.exec(html.slice(index, index + 12));
      if (match === null) return fail(`unsupported HTML entity at byte offset ${byteOffset(index)}`);
      const [whole, named, decimal, hex] = match;
      const codePoint =
        decimal !== undefined ? Number(decimal) : hex !== undefined ? Number.parseInt(hex, 16) : 0;
      if (named === undefined && (codePoint === 0 || codePoint > 0x10ffff))
        return fail(`invalid character reference at byte offset ${byteOffset(index)}`);
      text += named !== undefined ? (NAMED_ENTITIES[named] ?? '') : String.fromCodePoint(codePoint);
      index += whole.length;
      continue;
    }
    if (char === '>') return fail(`character '>' is reserved at byte offset ${byteOffset(index)}`);
    if (char !== '<') {
      text += char;
      index++;
      continue;
    }
    const tag = TAG_PATTERN.exec(html.slice(index));
    if (tag === null) return fail(`unclosed start tag at byte offset ${byteOffset(index)}`);
    const [whole, closing, rawName = '', rawAttributes = ''] = tag;
    const name = rawName.toLowerCase();
    const type = TAG_ENTITY[name];
    if (closing) {
      const top = open.pop();
      if (top === undefined || top.name !== name)
        return fail(
          `unmatched end tag at byte offset ${byteOffset(index)}, expected "</${top?.name ?? ''}>"`,
        );
      if (text.length > top.offset)
        entities.push({
          type: top.type,
          offset: top.offset,
          length: text.length - top.offset,
          ...(top.url !== undefined ? { url: top.url } : {}),
        });
    } else {
      if (type === undefined)
        return fail(`unsupported start tag "${name}" at byte offset ${byteOffset(index)}`);
      const attrs = attributes(rawAttributes);
      if (name === 'span' && attrs.get('class') !== 'tg-spoiler')
        return fail(`tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(index)}`);
      let url: string | undefined;
      if (name === 'a') {
        url = decodeAttribute(attrs.get('href') ?? '');
        if (!/^(https?:\/\/|tg:\/\/)/.test(url)) return fail(`wrong HTTP URL "${url}"`);
      }
      open.push({ name, type, offset: text.length, ...(url !== undefined ? { url } : {}) });
    }
    index += whole.length;
  }
  const unclosed = open.at(-1);
  if (unclosed !== undefined) return fail(`can't find end tag corresponding to start tag "${unclosed.name}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { ok: true, text, entities };
}
