import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT_CODES, isTroveError } from '../util/errors.js';
import { io, type Io, processIo, withIo, type Writer } from '../util/io.js';

/** The version in package.json (two levels up from both src/cli and dist/cli). */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

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
  [['upgrade'], () => import('./commands/upgrade.js')],
  [['summary'], () => import('./commands/summary.js')],
  [['delta'], () => import('./commands/delta.js')],
  [['serve'], () => import('./commands/serve.js')],
  [['sign'], () => import('./commands/sign.js')],
  [['keygen'], () => import('./commands/keygen.js')],
];

/** The arguments of `argv` (after node and the script) without the global `--repo DIR` / `--repo=DIR`. */
function withoutRepo(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--repo') i++;
    else if (!a.startsWith('--repo=')) out.push(a);
  }
  return out;
}

/** The command word of `argv`, if it starts with one. */
function commandName(argv: string[]): string | undefined {
  const first = withoutRepo(argv)[0];
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
  writeErr: (s: string) => void io().stderr.write(s),
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
    .description(`a content-addressed tree store for whole operating-system generations (trove ${VERSION}; trove --version prints it)`)
    .option('--repo <dir>', 'repository directory (default: $TROVE_REPO or ./repo)')
    .showHelpAfterError()
    .configureOutput(OUTPUT)
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit status: 0 ok, 1 I/O error, 2 usage, 3 not found, 4 already exists,\n' +
        '5 corrupt or invalid object, 6 unsafe input (bad name, ref or archive), 7 unsupported,\n' +
        '8 locked, 9 not a repository.',
    );
  for (const m of modules) m.register(program);
  return program;
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
  const { stdout, stderr, env } = io();
  // Only with no command (and at most --repo): `pkg add --version V` is a package's version, not trove's.
  const words = withoutRepo(argv);
  if (words.length === 1 && (words[0] === '--version' || words[0] === '-V')) {
    stdout.write(`${VERSION}\n`);
    return 0;
  }
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : EXIT_CODES.E_USAGE;
    }
    if (isTroveError(err)) {
      stderr.write(`trove: ${err.message}\n`);
      return EXIT_CODES[err.code];
    }
    const e = err as NodeJS.ErrnoException;
    const message = e.message ?? String(err);
    // Node's system errors already start with their code ("ENOSPC: no space left on device, ...").
    const prefix = e.code && !message.startsWith(`${e.code}:`) ? `${e.code}: ` : '';
    stderr.write(`trove: ${prefix}${message}\n`);
    if (env.TROVE_DEBUG) stderr.write(`${e.stack}\n`);
    return 1;
  }
}
