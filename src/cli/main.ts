import { Command, CommanderError } from 'commander';
import { EXIT_CODES, TroveError } from '../errors.js';
import * as cat from './commands/cat.js';
import * as checkout from './commands/checkout.js';
import * as commit from './commands/commit.js';
import * as diff from './commands/diff.js';
import * as fsck from './commands/fsck.js';
import * as init from './commands/init.js';
import * as log from './commands/log.js';
import * as mount from './commands/mount.js';
import * as ls from './commands/ls.js';
import * as refs from './commands/refs.js';
import * as show from './commands/show.js';
import * as delta from './commands/delta.js';
import * as keygen from './commands/keygen.js';
import * as pull from './commands/pull.js';
import * as remote from './commands/remote.js';
import * as serve from './commands/serve.js';
import * as sign from './commands/sign.js';
import * as summary from './commands/summary.js';
import * as pkg from './commands/pkg.js';
import * as gen from './commands/gen.js';
import * as install from './commands/install.js';
import * as remove from './commands/remove.js';
import * as switchCmd from './commands/switch.js';
import * as rollback from './commands/rollback.js';
import * as status from './commands/status.js';
import * as bisect from './commands/bisect.js';
import * as gc from './commands/gc.js';

/** Every command module; each adds itself to the program. */
const COMMANDS = [init, commit, ls, cat, log, show, refs, diff, checkout, fsck, pkg, gen, install, remove, switchCmd, rollback, status, bisect, gc, mount, remote, pull, summary, delta, serve, sign, keygen];

export function buildProgram(): Command {
  const program = new Command('trove')
    .description('a content-addressed tree store for whole operating-system generations')
    .option('--repo <dir>', 'repository directory (default: $TROVE_REPO or ./repo)')
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit status: 0 ok, 1 I/O error, 2 usage, 3 not found, 4 already exists,\n' +
        '5 corrupt or invalid object, 6 unsafe input (bad name, ref or archive), 7 unsupported,\n' +
        '8 locked, 9 not a repository.',
    );
  for (const c of COMMANDS) c.register(program);
  return program;
}

/** Runs the CLI; returns the exit code. One place maps errors to messages and codes. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : EXIT_CODES.E_USAGE;
    }
    if (err instanceof TroveError) {
      process.stderr.write(`trove: ${err.message}\n`);
      return EXIT_CODES[err.code];
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`trove: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    if (process.env.TROVE_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
