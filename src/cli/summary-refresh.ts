import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Repo } from '../repo/repo.js';
import { SUMMARY_PATH } from '../remote/layout.js';
import type { SummaryRefresh } from '../remote/summary.js';
import type { AutoDeltas } from '../remote/auto-delta.js';
import { shortId } from './printers.js';
import { io } from './context.js';
import { note } from './verbosity.js';

/** The options `withSummaryOptions` adds. */
export interface SummaryOpts {
  /** False with `--no-update-summary`. */
  updateSummary: boolean;
  summaryKey?: string;
}

/*
 * `--no-update-summary` and `--summary-key FILE`, for the commands that move
 * refs or add delta packs (commit, pkg add, gen build, delta): after such a
 * command succeeds, an existing `<repo>/summary` is rewritten (see
 * updateSummaryAfter).
 */
export const NO_UPDATE_SUMMARY = 'leave an existing <repo>/summary as it is (default: rewrite it afterwards)';
export const SUMMARY_KEY = 'private key to re-sign a signed summary with (default: $TROVE_SUMMARY_KEY)';
export const SUMMARY_HELP =
  '\nWhen the repository has a summary (it is served), it is rewritten afterwards. A signed\n' +
  'summary is re-signed only with --summary-key or $TROVE_SUMMARY_KEY; without a key it is\n' +
  'left as it was, and a warning says it is stale (run trove summary --key FILE).';

/**
 * Rewrites the summary of `repo` after a command succeeded, unless
 * `--no-update-summary`; warns in one line when a signed summary is left
 * stale for want of a key, or when the rewrite fails (the command's own
 * work is done by then, so it still succeeds). The key is read before the
 * command's work, so a missing key file fails early ({@link summaryKeyOf}).
 */
export async function updateSummaryAfter(repo: Repo, opts: SummaryOpts, keyPem: string | undefined): Promise<SummaryRefresh | undefined> {
  if (!opts.updateSummary) return undefined;
  // Most repositories are not served: the summary's code (delta packs, zlib, the compressors) is
  // loaded only for one that is, not at the start of every commit, pkg add and gen build.
  if (!existsSync(join(repo.path, SUMMARY_PATH))) return { state: 'none' };
  let r: SummaryRefresh;
  try {
    const { refreshSummary } = await import('../remote/summary.js');
    r = await refreshSummary(repo, { privateKeyPem: keyPem });
  } catch (err) {
    // The command itself succeeded: its exit status says so, and the summary's failure is a warning.
    io().stderr.write(`trove: warning: ${repo.path}/summary was not updated (${(err as Error).message}); it is now stale: run trove summary\n`);
    return undefined;
  }
  if (r.state === 'updated') warnAutoDeltas(r.autoDeltas);
  if (r.state === 'stale') {
    io().stderr.write(
      `trove: warning: ${repo.path}/summary is signed and no key was given, so it was left as it was and is now stale; ` +
        `run trove summary --key FILE (or pass --summary-key FILE)\n`,
    );
  }
  return r;
}

/**
 * One warning line per delta pack the summary could not write for a tip
 * that moved (the summary itself was written), and one note per pack it
 * left out for its size.
 */
export function warnAutoDeltas(auto: AutoDeltas | undefined): void {
  for (const f of auto?.failed ?? []) {
    io().stderr.write(`trove: warning: no delta pack ${shortId(f.from)} -> ${shortId(f.to)} (${f.problem}); clients fetch its objects one by one\n`);
  }
  for (const s of auto?.skipped ?? []) {
    note(
      `no delta pack ${shortId(s.from)} -> ${shortId(s.to)}: its objects add up to ${(s.bytes / 2 ** 20).toFixed(1)} MiB, more than a summary packs by itself; ` +
        `clients fetch them one by one (or run: trove delta ${shortId(s.from)} ${shortId(s.to)})`,
    );
  }
}

/** The PEM of `--summary-key` or `$TROVE_SUMMARY_KEY`, read before the command does its work. */
export async function summaryKeyOf(opts: SummaryOpts): Promise<string | undefined> {
  if (!opts.updateSummary) return undefined;
  const file = opts.summaryKey ?? io().env.TROVE_SUMMARY_KEY;
  if (!file) return undefined;
  const [{ readKeyFile }, { parsePrivateKey }] = await Promise.all([import('../remote/sign-commit.js'), import('../remote/sign.js')]);
  const pem = await readKeyFile(file, 'summary key');
  parsePrivateKey(pem);
  return pem;
}
