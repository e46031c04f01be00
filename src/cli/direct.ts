import type { Command } from 'commander';
import { GLOBAL_FLAGS } from './argv.js';
import type { GlobalOptions } from './context.js';
import { applyGlobals } from './verbosity.js';

/*
 * Commands run without commander. `trove switch N`, `rollback` and `status`
 * do a few milliseconds of work, and loading commander and building the
 * program took about as long as the rest of their start (docs/benchmarks.md,
 * "Start-up of short commands"). Such a command is declared once, as data
 * (DirectCommand); program.ts builds its commander command from that
 * declaration, and runDirect parses the plain forms of its command line
 * itself: global options, the command word, its positional arguments and
 * its long options, as `--opt VALUE`, `--opt=VALUE` or a flag. Anything
 * else (help, a short or unknown option, a missing or extra argument, `--`,
 * a value that starts with '-', an option given twice) goes to commander, so
 * what the user sees in those cases, errors included, is commander's.
 * test/direct.test.ts holds the two parsers to the same result.
 */

/** A long option of a direct command, in commander's syntax: `--profile <name>` or `--json`. */
export interface DirectOption {
  flags: `--${string}`;
  description: string;
  /** The value when the option is not given (options with a value only). */
  default?: string;
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
  /** The command itself: its arguments (undefined when an optional one is not given), its options, and `--repo` if given. */
  run(args: (string | undefined)[], opts: Opts, repo: string | undefined): Promise<void>;
}

/** `--remote-check` → `remoteCheck`, as commander names an option's value. */
function key(flags: string): string {
  return flags
    .slice(2)
    .split(' ')[0]!
    .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

const takesValue = (o: DirectOption) => o.flags.includes(' ');

/** Adds `spec` to the program as a commander command that runs the same code. */
export function registerDirect<Opts>(program: Command, spec: DirectCommand<Opts>): Command {
  const cmd = program.command(spec.name).description(spec.description);
  for (const a of spec.args) cmd.argument(a.syntax, a.description);
  for (const o of spec.options) cmd.option(o.flags, o.description, o.default);
  if (spec.help) cmd.addHelpText('after', spec.help);
  return cmd.action(async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const args = params.slice(0, spec.args.length) as (string | undefined)[];
    await spec.run(args, command.opts() as Opts, command.optsWithGlobals<GlobalOptions>().repo);
  });
}

export interface DirectParse {
  globals: GlobalOptions;
  args: (string | undefined)[];
  opts: Record<string, string | boolean>;
}

/**
 * The command line `argv` (node, script, words) parsed as `spec` when it is
 * in one of the plain forms (see above), else undefined: commander's to parse.
 */
export function parseDirect(argv: string[], spec: DirectCommand<unknown>): DirectParse | undefined {
  const globals: GlobalOptions = {};
  const opts: Record<string, string | boolean> = {};
  const args: string[] = [];
  const seen = new Set<string>();
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
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    if (seen.has(name)) return undefined;
    seen.add(name);
    const flag = Object.hasOwn(GLOBAL_FLAGS, word) ? GLOBAL_FLAGS[word] : undefined;
    if (flag) {
      // `--progress` and `--no-progress` set one value: which one wins is commander's call.
      if (flag[0] === 'progress' && globals.progress !== undefined) return undefined;
      (globals as Record<string, boolean>)[flag[0]] = flag[1];
      continue;
    }
    const isRepo = name === '--repo';
    const option = isRepo || !named ? undefined : spec.options.find((o) => o.flags.split(' ')[0] === name);
    if (!isRepo && (!option || option.viaCommander)) return undefined;
    let value: string | boolean = true;
    if (isRepo || takesValue(option!)) {
      if (eq >= 0) value = word.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('-')) return undefined;
        value = next;
        i++;
      }
    } else if (eq >= 0) return undefined;
    if (isRepo) globals.repo = value as string;
    else opts[key(option!.flags)] = value;
  }
  if (!named || args.length > spec.args.length) return undefined;
  for (let i = 0; i < spec.args.length; i++) if (args[i] === undefined && spec.args[i]!.syntax.startsWith('<')) return undefined;
  for (const o of spec.options) if (o.default !== undefined && !(key(o.flags) in opts)) opts[key(o.flags)] = o.default;
  return { globals, args: spec.args.map((_a, i) => args[i]), opts };
}

/** Runs `argv` as `spec` when it is in a plain form; false when commander must parse it. */
export async function runParsed(argv: string[], spec: DirectCommand<unknown>): Promise<boolean> {
  const parsed = parseDirect(argv, spec);
  if (!parsed) return false;
  applyGlobals(parsed.globals);
  await spec.run(parsed.args, parsed.opts, parsed.globals.repo);
  return true;
}

