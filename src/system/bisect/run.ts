import { spawn, type StdioOptions } from 'node:child_process';
import { ioError, usage } from '../../util/errors.js';
import { restoreExtraCaCerts } from '../../util/extra-ca.js';
import type { Repo } from '../../repo/repo.js';
import { type BisectStep, bisectMark, type EnsureCommit } from './bisect.js';
import { readBisectState, type Verdict } from './state.js';

/** git's convention: 0 good, 125 skip, 1–127 bad, anything else (128+, a signal) aborts. */
export function verdictOf(code: number | null): Verdict | null {
  if (code === 0) return 'good';
  if (code === 125) return 'skip';
  if (code !== null && code >= 1 && code <= 127) return 'bad';
  return null;
}

function runOnce(argv: string[], env: NodeJS.ProcessEnv, stdio: StdioOptions): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio, env });
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

/**
 * Runs `argv` on each candidate until the first bad commit is found. The
 * command sees the candidate at the bisect link, and its id in
 * $TROVE_BISECT_COMMIT. The session is left in place when the command aborts.
 */
export async function bisectRun(
  repo: Repo,
  argv: string[],
  opts: { stdio?: StdioOptions; onStep?: (step: BisectStep, verdict: Verdict) => void; ensure?: EnsureCommit } = {},
): Promise<BisectStep & { steps: number }> {
  if (argv.length === 0) throw usage('bisect run needs a command');
  const state = await readBisectState(repo);
  if (!state) throw usage('no bisect in progress (start one with: trove bisect start)');
  let current = state.current;
  let steps = 0;
  let last: BisectStep | undefined;
  while (current) {
    // The user's environment, NODE_EXTRA_CA_CERTS as they set it (trove's own start moves it aside, util/extra-ca.ts).
    const env = { ...restoreExtraCaCerts(process.env), TROVE_BISECT_COMMIT: current, TROVE_BISECT_LINK: state.link };
    const code = await runOnce(argv, env, opts.stdio ?? 'inherit');
    const verdict = verdictOf(code);
    if (!verdict) throw ioError(`bisect run aborted: ${argv.join(' ')} exited with ${code ?? 'a signal'} on ${current}`, { id: current, path: state.link });
    steps++;
    last = await bisectMark(repo, verdict, undefined, { ensure: opts.ensure });
    opts.onStep?.(last, verdict);
    current = last.current;
  }
  if (!last) throw usage('the bisect is over (trove bisect reset ends it)');
  return { ...last, steps };
}
