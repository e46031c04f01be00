import { EXIT_CODES, isTroveError, type ErrorCode, type ErrorData } from '../util/errors.js';
import { io, type Io, processIo, withIo } from '../util/io.js';
import { asksVersion, packageVersion, withoutGlobals } from './argv.js';
import { runDirect } from './direct.js';

// The CLI's entry: one place maps errors to messages and exit codes. A few
// short, frequent commands are parsed and run here directly (direct.ts);
// everything else, and every usage error, goes through commander
// (program.ts), loaded only then.

/** Every command and subcommand, as commander builds them (for the docs, the man pages and the tests). */
export async function buildProgram(argv: string[] = []): Promise<import('commander').Command> {
  return (await import('./program.js')).buildProgram(argv);
}

/** Writes one error: `trove: MESSAGE`, or under `--json` one JSON object `{"error":{"code","message"[,"data"]}}`. */
function reportError(json: boolean, code: ErrorCode, message: string, data: ErrorData = {}): number {
  const { stderr } = io();
  if (json) {
    const error: { code: ErrorCode; message: string; data?: ErrorData } = { code, message };
    if (Object.keys(data).length > 0) error.data = data;
    stderr.write(`${JSON.stringify({ error })}\n`);
  } else {
    stderr.write(`trove: ${message}\n`);
  }
  return EXIT_CODES[code];
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
    if (isTroveError(err)) return reportError(json, err.code, err.message, err.data);
    const e = err as NodeJS.ErrnoException;
    const message = e.message ?? String(err);
    // Node's system errors already start with their code ("ENOSPC: no space left on device, ...").
    const prefix = e.code && !message.startsWith(`${e.code}:`) ? `${e.code}: ` : '';
    const status = reportError(json, 'E_IO', `${prefix}${message}`);
    if (env.TROVE_DEBUG) stderr.write(`${e.stack}\n`);
    return status;
  }
}
