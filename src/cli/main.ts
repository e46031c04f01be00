import { io, type Io, processIo, withIo } from '../util/io.js';
import { asksVersion, type DirectName, directName, packageVersion, withoutGlobals } from './argv.js';
import { type DirectCommand, runParsed } from './direct.js';
import { reportFailure } from './report.js';

// The CLI's entry: one place maps errors to messages and exit codes. A few
// short, frequent commands are parsed and run here directly (direct.ts);
// everything else, and every usage error, goes through commander
// (program.ts), loaded only then.

/** The direct commands' modules (see direct.ts), by name; a module is loaded only for its own command. */
const DIRECT: Record<DirectName, () => Promise<{ command: DirectCommand<never> }>> = {
  switch: () => import('./commands/switch.js'),
  rollback: () => import('./commands/rollback.js'),
  status: () => import('./commands/status.js'),
  checkout: () => import('./commands/checkout.js'),
  commit: () => import('./commands/commit.js'),
};

/** Runs `argv` when it is a direct command in a plain form; false when commander must. */
async function runDirect(argv: string[]): Promise<boolean> {
  const name = directName(argv);
  if (name === undefined) return false;
  return runParsed(argv, (await DIRECT[name]()).command as DirectCommand<unknown>);
}

/** Every command and subcommand, as commander builds them (for the docs, the man pages and the tests). */
export async function buildProgram(argv: string[] = []): Promise<import('commander').Command> {
  return (await import('./program.js')).buildProgram(argv);
}

/**
 * Runs the CLI; returns the exit code. One place maps errors to messages and codes.
 * Everything it prints goes to `out` (the process's streams unless given), and
 * `out.env` stands for the environment.
 */
export function main(argv: string[], out: Io = processIo()): Promise<number> {
  return withIo(out, () => run(argv));
}

async function run(argv: string[]): Promise<number> {
  const { stdout } = io();
  const words = withoutGlobals(argv);
  if (asksVersion(words)) {
    stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const json = words.includes('--json');
  try {
    // Completion asks while the user types: it loads no command module.
    if (words[0] === '__complete') {
      const { complete } = await import('./complete.js');
      await complete(argv.slice(2));
      return 0;
    }
    if (!(await runDirect(argv))) await (await import('./program.js')).runProgram(argv);
    return 0;
  } catch (err) {
    return reportFailure(err, json);
  }
}
