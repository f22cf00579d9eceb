/**
 * `arbion parse [text]`: what the fast-path parser makes of a message, as JSON. With no argument it
 * reads stdin, one message per line, and prints one JSON object per line as it goes, so it can sit
 * in a pipe. Needs no database and no configuration.
 */
import { createInterface } from 'node:readline';
import type { Command } from '../../core/conversation/commands.js';
import { parseMessage } from '../../core/conversation/parser/index.js';
import type { SymbolResolver } from '../../core/market-data/instruments.js';
import { getSymbolDirectory } from '../../core/market-data/symbols/directory.js';

function parseLine(text: string, symbols: SymbolResolver): Command {
  return parseMessage(text, { symbols, now: new Date() });
}

/** Writes one line and waits when the pipe is full, so large inputs do not pile up in memory. */
function writeLine(line: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(`${line}\n`)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

export async function parseCommand(text: string | undefined): Promise<void> {
  const symbols = getSymbolDirectory();
  if (text !== undefined) {
    await writeLine(JSON.stringify(parseLine(text, symbols)));
    return;
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim().length === 0) continue;
    await writeLine(JSON.stringify(parseLine(line, symbols)));
  }
}
