import { readFileSync } from 'node:fs';

// What the CLI reads from its arguments before anything else is loaded:
// `trove --version` is answered from here, without commander or any command.

/** The version in package.json (two levels up from src/cli, dist/cli and dist/bundle alike). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The global options that take no value (see buildProgram in program.ts): the option each sets, and to what. */
export const GLOBAL_FLAGS: Readonly<Record<string, readonly [option: 'quiet' | 'verbose' | 'progress', value: boolean]>> = {
  '-q': ['quiet', true],
  '--quiet': ['quiet', true],
  '-v': ['verbose', true],
  '--verbose': ['verbose', true],
  '--progress': ['progress', true],
  '--no-progress': ['progress', false],
};

/** The arguments of `argv` (after node and the script) without the global options (`--repo DIR`, `-q`, ...). */
export function withoutGlobals(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '--repo') i++;
    else if (!a.startsWith('--repo=') && !Object.hasOwn(GLOBAL_FLAGS, a)) out.push(a);
  }
  return out;
}

/**
 * Whether the arguments (`withoutGlobals`) ask for trove's version: `--version`
 * or `-V` with no command; `pkg add --version V` is a package's.
 */
export function asksVersion(words: string[]): boolean {
  return words.length === 1 && (words[0] === '--version' || words[0] === '-V');
}

/**
 * The commands run without commander in their plain forms (direct.ts), and
 * the file of the bundle (scripts/bundle.mjs) that holds each.
 */
export const DIRECT_MODULES = {
  switch: './direct-main.cjs',
  rollback: './direct-main.cjs',
  status: './direct-main.cjs',
  checkout: './direct-checkout.cjs',
  commit: './direct-commit.cjs',
} as const;
export type DirectName = keyof typeof DIRECT_MODULES;

/** The direct command `argv` names, if it names one (its first word after the global options). */
export function directName(argv: string[]): DirectName | undefined {
  const first = withoutGlobals(argv)[0];
  return first !== undefined && Object.hasOwn(DIRECT_MODULES, first) ? (first as DirectName) : undefined;
}
