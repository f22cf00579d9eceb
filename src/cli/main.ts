/**
 * `arbion`: one command, several subcommands. See `arbion --help`.
 */
import { Command } from 'commander';
import { productVersion } from '../core/paths.js';
import { doctorCommand } from './commands/doctor.js';
import { KEYS_ROTATE_HELP, keysRotateCommand } from './commands/keys.js';
import { migrateApplyCommand, migrateCreateCommand, migrateStatusCommand } from './commands/migrate.js';
import { parseCommand } from './commands/parse.js';
import {
  SECRETS_HELP,
  secretsListCommand,
  secretsRemoveCommand,
  secretsSetCommand,
} from './commands/secrets.js';
import { startCommand } from './commands/start.js';
import { workerCommand } from './commands/worker.js';
import { CommandExit, type GlobalOptions } from './context.js';

function buildProgram(): Command {
  const program = new Command('arbion')
    .description('Chat-first trading assistant')
    .version(productVersion)
    .option('--env-file <path>', 'read settings from this file instead of ./.env')
    .showHelpAfterError();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  program
    .command('start')
    .description('run everything in one process: database, web server, channels, jobs')
    .action(() => startCommand(globals()));

  program
    .command('web')
    .description('run the web server with the broker linking site only (no console, channels or jobs)')
    .action(() => startCommand(globals(), 'web'));

  const migrate = program
    .command('migrate')
    .description('apply pending database migrations')
    .action(() => migrateApplyCommand(globals()));
  migrate
    .command('status')
    .description('list pending migrations and check the database against prisma/schema.prisma')
    .action(() => migrateStatusCommand(globals()));
  migrate
    .command('create')
    .description('write a new migration from changes to prisma/schema.prisma (development)')
    .argument('<name>', 'what the migration does, e.g. add_alert_notes')
    .action((name: string) => migrateCreateCommand(name));

  program
    .command('worker')
    .description(
      'evaluate strategies and check alerts from the shared Redis queue (needs REDIS_URL and DATABASE_URL)',
    )
    .action(() => workerCommand(globals()));

  program
    .command('doctor')
    .description('show the effective configuration (secrets hidden) and check every dependency')
    .option('--json', 'print one JSON object')
    .action((options: { json?: boolean }) => doctorCommand(globals(), options));

  program
    .command('keys')
    .description('manage the vault key ring (ARBION_ENCRYPTION_KEYS)')
    .command('rotate')
    .description('re-encrypt every stored secret with the first key of the ring')
    .addHelpText('after', KEYS_ROTATE_HELP)
    .action(() => keysRotateCommand(globals()));

  const secrets = program
    .command('secrets')
    .description("the operator's own secrets in the vault (e.g. the CDP wallet secret)")
    .addHelpText('after', SECRETS_HELP);
  secrets
    .command('set')
    .description('store a secret, read from standard input')
    .argument('<name>', 'e.g. cdp-wallet-secret')
    .action((name: string) => secretsSetCommand(globals(), name));
  secrets
    .command('list')
    .description('which secrets are stored, and when they were set (never their values)')
    .action(() => secretsListCommand(globals()));
  secrets
    .command('remove')
    .description('forget a stored secret')
    .argument('<name>', 'e.g. cdp-wallet-secret')
    .action((name: string) => secretsRemoveCommand(globals(), name));

  program
    .command('parse')
    .description(
      'print what the quick parser makes of a message, as JSON (no argument: one message per stdin line)',
    )
    .argument('[text...]', 'the message, e.g. "buy 10 AAPL limit 190" (words are joined with spaces)')
    .action((words: string[]) => parseCommand(words.length > 0 ? words.join(' ') : undefined));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommandExit) return error.exitCode;
    process.stderr.write(`arbion: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
