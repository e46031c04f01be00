import { Command, CommanderError, Help, Option } from 'commander';
import { usage } from '../util/errors.js';
import { io, type Writer } from '../util/io.js';
import { nearest } from '../util/suggest.js';
import { packageVersion, withoutGlobals } from './argv.js';
import { registerBuiltins } from './builtins.js';
import type { GlobalOptions } from './context.js';
import { applyGlobals } from './verbosity.js';

// The whole command line through commander: every command but the few that
// main.ts runs directly (see direct.ts), and help, completion, and every
// usage error.

const VERSION = packageVersion();

/** A command module adds its command (and subcommands) to the program. */
interface CommandModule {
  register(program: Command): void;
}

/**
 * Every command module, by the command names it registers. Only the module of
 * the command being run is loaded: the network, FUSE and compression modules
 * cost more start-up time than most commands take to run.
 */
const COMMANDS: [names: string[], load: () => Promise<CommandModule>][] = [
  [['init'], () => import('./commands/init.js')],
  [['commit'], () => import('./commands/commit.js')],
  [['ls'], () => import('./commands/ls.js')],
  [['cat'], () => import('./commands/cat.js')],
  [['log'], () => import('./commands/log.js')],
  [['show'], () => import('./commands/show.js')],
  [['refs'], () => import('./commands/refs.js')],
  [['diff'], () => import('./commands/diff.js')],
  [['checkout'], () => import('./commands/checkout.js')],
  [['fsck'], () => import('./commands/fsck.js')],
  [['pkg'], () => import('./commands/pkg.js')],
  [['gen'], () => import('./commands/gen.js')],
  [['install'], () => import('./commands/install.js')],
  [['remove'], () => import('./commands/remove.js')],
  [['switch'], () => import('./commands/switch.js')],
  [['rollback'], () => import('./commands/rollback.js')],
  [['status'], () => import('./commands/status.js')],
  [['bisect'], () => import('./commands/bisect.js')],
  [['gc'], () => import('./commands/gc.js')],
  [['mount', 'umount', 'unmount'], () => import('./commands/mount.js')],
  [['remote'], () => import('./commands/remote.js')],
  [['pull'], () => import('./commands/pull.js')],
  [['fetch'], () => import('./commands/fetch.js')],
  [['upgrade'], () => import('./commands/upgrade.js')],
  [['summary'], () => import('./commands/summary.js')],
  [['delta'], () => import('./commands/delta.js')],
  [['serve'], () => import('./commands/serve.js')],
  [['sign'], () => import('./commands/sign.js')],
  [['keygen'], () => import('./commands/keygen.js')],
];

/** The command word of `argv`, if it starts with one. */
function commandName(argv: string[]): string | undefined {
  const first = withoutGlobals(argv)[0];
  return first === undefined || first.startsWith('-') ? undefined : first;
}

/** Whether the environment asks for colour or forbids it (commander's rule), else undefined. */
function colourWanted(env: NodeJS.ProcessEnv): boolean | undefined {
  if (env.NO_COLOR || env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  if (env.FORCE_COLOR || env.CLICOLOR_FORCE !== undefined) return true;
  return undefined;
}

function hasColours(w: Writer): boolean {
  return Boolean(w.isTTY && w.hasColors?.());
}

/**
 * Commander's help and error output, sent to the io of the running command
 * (subcommands inherit it). As in commander's defaults, a width of undefined
 * (not a terminal) means 80 columns, though its types say number.
 */
const OUTPUT = {
  writeOut: (s: string) => void io().stdout.write(s),
  // Commander writes to stderr only its errors and the help it shows for a missing command;
  // both are thrown (exitOverride) and printed once by run(), as one line in trove's style.
  writeErr: () => undefined,
  outputError: () => undefined,
  getOutHelpWidth: () => (io().stdout.isTTY ? io().stdout.columns : undefined) as number,
  getErrHelpWidth: () => (io().stderr.isTTY ? io().stderr.columns : undefined) as number,
  getOutHasColors: () => colourWanted(io().env) ?? hasColours(io().stdout),
  getErrHasColors: () => colourWanted(io().env) ?? hasColours(io().stderr),
};

/**
 * The program with the commands `argv` needs: just its command when it names
 * a known one, else all of them (help, a mistyped command, no command).
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const name = commandName(argv);
  const wanted = COMMANDS.filter(([names]) => name !== undefined && names.includes(name));
  const modules = await Promise.all((wanted.length > 0 ? wanted : COMMANDS).map(([, load]) => load()));
  const program = new Command('trove')
    .description(`a content-addressed tree store for whole operating-system generations (trove ${VERSION})`)
    .configureHelp({ visibleOptions: programOptions })
    .option('--repo <dir>', 'repository directory (default: $TROVE_REPO or ./repo)')
    .option('-q, --quiet', 'print only data and errors: no progress, notes or confirmations')
    .option('-v, --verbose', 'print detail on stderr: counts, timings, what was read, written or removed')
    .option('--progress', 'show progress on stderr even when it is not a terminal (one line a second)')
    .option('--no-progress', 'never show progress')
    .hook('preAction', (_program, action) => applyGlobals(action.optsWithGlobals<GlobalOptions>()))
    .configureOutput(OUTPUT)
    .exitOverride()
    .helpCommand(false)
    .addHelpText(
      'after',
      '\nExit status: 0 ok, 1 I/O error, 2 usage, 3 not found, 4 already exists,\n' +
        '5 corrupt or invalid object, 6 unsafe input (bad name, ref or archive), 7 unsupported,\n' +
        '8 locked, 9 not a repository (trove help exit-codes).\n' +
        'Help topics: trove help revisions | exit-codes | environment; trove help COMMAND.',
    );
  for (const m of modules) m.register(program);
  registerBuiltins(program);
  requireSubcommands(program);
  return program;
}

/**
 * `-V, --version` is listed in the program's help but is no option of the
 * parser: program options are parsed after the command word too, and
 * `pkg add --version V` is the package's version. run() answers it alone.
 */
const VERSION_OPTION = new Option('-V, --version', 'print the version and exit');

function programOptions(this: Help, cmd: Command): Option[] {
  const options = Help.prototype.visibleOptions.call(this, cmd);
  return cmd.parent === null ? [VERSION_OPTION, ...options] : options;
}

/** `trove pkg add`, for a command. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * A command that only groups subcommands (`pkg`, `gen`, `remote`, ...) says in
 * one line that a subcommand is missing or unknown, instead of commander's help
 * on stderr.
 */
function requireSubcommands(cmd: Command): void {
  for (const sub of cmd.commands) requireSubcommands(sub);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander keeps these private
  const internal = cmd as any as { _actionHandler: unknown; _defaultCommandName: unknown };
  if (cmd.parent === null || cmd.commands.length === 0 || internal._actionHandler || internal._defaultCommandName) return;
  cmd.allowExcessArguments(true).action((_opts: unknown, self: Command) => {
    const names = self.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden).map((c) => c.name());
    const path = commandPath(self).replace(/^trove /, '');
    const word = self.args[0];
    if (word === undefined) throw usage(`${path} needs a subcommand: ${names.join(', ')} (see trove ${path} --help)`);
    const near = nearest(word, names);
    throw usage(`unknown command '${path} ${word}'${near ? ` (did you mean ${path} ${near}?)` : ` (${path} has: ${names.join(', ')})`}`);
  });
}

/** Commander's error message as one line: `unknown command 'comit' (did you mean commit?)`. */
function commanderMessage(err: CommanderError): string {
  return err.message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*\(Did you mean (.*)\?\)\s*$/s, ' (did you mean $1?)')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * Parses `argv` and runs its command. Commander's own errors become one usage
 * error (a TroveError) for main to report; help that was asked for is not one.
 */
export async function runProgram(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) return;
    if (err.code === 'commander.help') throw usage('no command given (trove --help lists the commands)');
    throw usage(commanderMessage(err));
  }
}
