// Writes .env.example and docs/configuration.md from the variable table in
// src/core/config/variables.ts (run `npm run docs:config`; tests fail when they are out of date).
import { mkdirSync, writeFileSync } from 'node:fs';

const { variables, variableNames } = await import('../dist/src/core/config/variables.js');

const groupTitles = {
  core: 'Core',
  database: 'Database',
  jobs: 'Background jobs',
  web: 'Web server',
  trading: 'Trading defaults and risk',
  llm: 'Language model (OpenAI-compatible)',
  telegram: 'Telegram',
  slack: 'Slack',
  discord: 'Discord',
  schwab: 'Charles Schwab',
  etrade: 'E*TRADE',
  alpaca: 'Alpaca',
  coinbase: 'Coinbase Advanced Trade',
  cdp: 'Coinbase CDP wallet',
  coingecko: 'CoinGecko',
};

const byGroup = new Map();
for (const name of variableNames) {
  const spec = variables[name];
  if (!byGroup.has(spec.group)) byGroup.set(spec.group, []);
  byGroup.get(spec.group).push([name, spec]);
}

const example = [
  '# Arbion settings. Copy to .env and uncomment what you need.',
  '# With nothing set, Arbion runs on its embedded defaults: embedded PostgreSQL in ./data,',
  '# in-process jobs, the paper broker and the web server on 127.0.0.1:3000.',
  '# Every variable: docs/configuration.md. The process environment wins over this file.',
];
const docs = [
  '# Configuration',
  '',
  'Arbion reads environment variables, and a `.env` file in the working folder (or the one named by',
  '`arbion --env-file <path>`); the process environment wins over the file. Empty values count as unset.',
  'With nothing set, Arbion runs on its embedded defaults.',
  '',
  'Invalid or contradictory settings stop every command before it does anything, with one list of every',
  'problem and exit code 78. `arbion doctor` prints the effective configuration with secrets hidden.',
  '',
  'This file and `.env.example` are generated from `src/core/config/variables.ts` by `npm run docs:config`.',
];

for (const [group, entries] of byGroup) {
  example.push('', `# ---- ${groupTitles[group] ?? group}`);
  docs.push(
    '',
    `## ${groupTitles[group] ?? group}`,
    '',
    '| Variable | Default | Secret | Meaning |',
    '| --- | --- | --- | --- |',
  );
  for (const [name, spec] of entries) {
    example.push(`# ${spec.description}`);
    example.push(`# ${name}=${spec.defaultText ?? ''}`);
    const fallback = spec.defaultText === undefined ? '(unset)' : `\`${spec.defaultText}\``;
    docs.push(
      `| \`${name}\` | ${fallback} | ${spec.secret ? 'yes' : ''} | ${spec.description.replaceAll('|', '\\|')} |`,
    );
  }
}

writeFileSync('.env.example', `${example.join('\n')}\n`);
mkdirSync('docs', { recursive: true });
writeFileSync('docs/configuration.md', `${docs.join('\n')}\n`);
console.log(`wrote .env.example and docs/configuration.md (${variableNames.length} variables)`);
