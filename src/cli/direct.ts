import type { Command } from 'commander';
import { type Io, processIo, withIo } from '../util/io.js';
import { GLOBAL_FLAGS, withoutGlobals } from './argv.js';
import type { GlobalOptions } from './context.js';
import { reportFailure } from './report.js';
import { applyGlobals } from './verbosity.js';

/*
 * Commands run without commander. `trove switch N`, `rollback` and `status`
 * do a few milliseconds of work, and loading commander and building the
 * program took about as long as the rest of their start (docs/benchmarks.md,
 * "Start-up of short commands"). Such a command is declared once, as data
 * (DirectCommand); program.ts builds its commander command from that
 * declaration, and runDirect parses the plain forms of its command line
 * itself: global options, the command word, its positional arguments and
 * its options, as `--opt VALUE`, `--opt=VALUE`, `-o VALUE` or a flag (`-o`,
 * `--opt`, `--no-opt`). Anything else (help, an unknown option, short flags
 * run together, `-oVALUE`, a missing or extra argument, a missing required
 * option, `--`, a value that starts with '-', an option given twice unless it
 * repeats) goes to commander, so what the user sees in those cases, errors
 * included, is commander's. test/direct.test.ts holds the two parsers to the
 * same result.
 */

/**
 * An option of a direct command, in commander's syntax: `--profile <name>`,
 * `--json`, `-m, --message <subject>`, `-H, --hardlink`, or `--no-xattrs`
 * (a flag whose value is true unless it is given). A value is always
 * required (`<name>`): the direct parser does not read commander's optional
 * values (`[name]`), nor long names with a digit after a dash.
 */
export interface DirectOption {
  flags: `--${string}` | `-${string}, --${string}`;
  description: string;
  /** The value when the option is not given (options with a value only). */
  default?: string;
  /** The command line must give it (commander's requiredOption). */
  required?: boolean;
  /** It may be given more than once: its value is the list of values given (`[]` when none). */
  repeats?: boolean;
  /**
   * A command line that gives this option goes to commander (main.ts): for
   * an option whose work needs modules the direct commands' own bundle
   * leaves out (`status --remote-check` and the network; scripts/bundle.mjs).
   */
  viaCommander?: boolean;
}

export interface DirectCommand<Opts> {
  name: string;
  description: string;
  /** Positional arguments, in commander's syntax: `[target]` (optional) or `<name>` (required). */
  args: { syntax: `[${string}]` | `<${string}>`; description: string }[];
  options: DirectOption[];
  /** Help text shown after the options. */
  help?: string;
  /**
   * The command itself: its arguments (undefined when an optional one is not
   * given), its options, `--repo` if given, and every global option (for the
   * progress meter: src/cli/progress.ts).
   */
  run(args: (string | undefined)[], opts: Opts, repo: string | undefined, globals: GlobalOptions): Promise<void>;
}

/** An option's flags read: `-m, --message <subject>` → short `-m`, long `--message`, key `message`, takes a value. */
interface OptionNames {
  declared: DirectOption;
  short: string | undefined;
  long: string;
  key: string;
  value: boolean;
  /** `--no-x`: the value is true unless the option is given. */
  negated: boolean;
}

function names(o: DirectOption): OptionNames {
  const words = o.flags.split(/,? /);
  const short = words[0]!.startsWith('--') ? undefined : words.shift();
  const long = words[0]!;
  const negated = long.startsWith('--no-');
  // `--remote-check` → `remoteCheck`, as commander names an option's value.
  const key = long.slice(negated ? 5 : 2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  return { declared: o, short, long, key, value: words.length > 1, negated };
}

/** Adds `spec` to the program as a commander command that runs the same code. */
export function registerDirect<Opts>(program: Command, spec: DirectCommand<Opts>): Command {
  const cmd = program.command(spec.name).description(spec.description);
  for (const a of spec.args) cmd.argument(a.syntax, a.description);
  for (const o of spec.options) {
    if (o.repeats) cmd.option(o.flags, o.description, (v: string, acc: string[]) => [...acc, v], [] as string[]);
    else if (o.required) cmd.requiredOption(o.flags, o.description, o.default);
    else cmd.option(o.flags, o.description, o.default);
  }
  if (spec.help) cmd.addHelpText('after', spec.help);
  return cmd.action(async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const args = params.slice(0, spec.args.length) as (string | undefined)[];
    const globals = command.optsWithGlobals<GlobalOptions>();
    await spec.run(args, command.opts() as Opts, globals.repo, globals);
  });
}

export interface DirectParse {
  globals: GlobalOptions;
  args: (string | undefined)[];
  opts: Record<string, string | boolean | string[]>;
}

/**
 * The command line `argv` (node, script, words) parsed as `spec` when it is
 * in one of the plain forms (see above), else undefined: commander's to parse.
 */
export function parseDirect(argv: string[], spec: DirectCommand<unknown>): DirectParse | undefined {
  const globals: GlobalOptions = {};
  const opts: Record<string, string | boolean | string[]> = {};
  const args: string[] = [];
  const seen = new Set<string>();
  const options = spec.options.map(names);
  let named = false;
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-' || word === '--') return undefined;
    if (!word.startsWith('-')) {
      if (!named) {
        if (word !== spec.name) return undefined;
        named = true;
      } else args.push(word);
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq < 0 ? word : word.slice(0, eq);
    const flag = Object.hasOwn(GLOBAL_FLAGS, word) ? GLOBAL_FLAGS[word] : undefined;
    if (flag) {
      if (seen.has(word)) return undefined;
      seen.add(word);
      // `--progress` and `--no-progress` set one value: which one wins is commander's call.
      if (flag[0] === 'progress' && globals.progress !== undefined) return undefined;
      (globals as Record<string, boolean>)[flag[0]] = flag[1];
      continue;
    }
    const isRepo = name === '--repo';
    const option = isRepo || !named ? undefined : options.find((o) => o.long === name || o.short === name);
    if (!isRepo && (!option || option.declared.viaCommander)) return undefined;
    // Given twice (as `-m` and `--message` alike): commander's call, unless the option repeats.
    const seenAs = isRepo ? '--repo' : option!.long;
    if (seen.has(seenAs) && !option?.declared.repeats) return undefined;
    seen.add(seenAs);
    let value: string | boolean = true;
    if (isRepo || option!.value) {
      if (eq >= 0) value = word.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('-')) return undefined;
        value = next;
        i++;
      }
    } else if (eq >= 0) return undefined;
    else if (option!.negated) value = false;
    if (isRepo) globals.repo = value as string;
    else if (option!.declared.repeats) opts[option!.key] = [...((opts[option!.key] as string[] | undefined) ?? []), value as string];
    else opts[option!.key] = value;
  }
  if (!named || args.length > spec.args.length) return undefined;
  for (let i = 0; i < spec.args.length; i++) if (args[i] === undefined && spec.args[i]!.syntax.startsWith('<')) return undefined;
  for (const o of options) {
    if (o.key in opts) continue;
    const declared = o.declared;
    if (declared.required && declared.default === undefined) return undefined;
    if (declared.repeats) opts[o.key] = [];
    else if (declared.default !== undefined) opts[o.key] = declared.default;
    else if (o.negated) opts[o.key] = true;
  }
  return { globals, args: spec.args.map((_a, i) => args[i]), opts };
}

/** Runs `argv` as `spec` when it is in a plain form; false when commander must parse it. */
export async function runParsed(argv: string[], spec: DirectCommand<unknown>): Promise<boolean> {
  const parsed = parseDirect(argv, spec);
  if (!parsed) return false;
  applyGlobals(parsed.globals);
  await spec.run(parsed.args, parsed.opts, parsed.globals.repo, parsed.globals);
  return true;
}

/**
 * The entry of a bundle of direct commands (scripts/bundle.mjs): runs `argv`
 * when it is one of `commands` in a plain form and returns the exit code,
 * reporting errors as main does; undefined, having done nothing, when
 * commander must parse it (main.ts then does).
 */
export function directRunner(commands: Record<string, DirectCommand<never>>) {
  return (argv: string[], name: string, out: Io = processIo()): Promise<number | undefined> =>
    withIo(out, async () => {
      try {
        return (await runParsed(argv, commands[name] as DirectCommand<unknown>)) ? 0 : undefined;
      } catch (err) {
        return reportFailure(err, withoutGlobals(argv).includes('--json'));
      }
    });
}

