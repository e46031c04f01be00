import { SingleBar } from 'cli-progress';
import { io } from '../util/io.js';

/**
 * The progress bar of long commands (pull, pkg add of several packages): one
 * cli-progress bar on stderr, cleared when done. `format` uses cli-progress
 * placeholders (`{bar}`, `{eta_formatted}`) and the payload's keys.
 */
export function terminalBar(format: string): SingleBar {
  return new SingleBar({
    format,
    hideCursor: true,
    clearOnComplete: true,
    fps: 8,
    etaBuffer: 200,
    stream: io().stderr as NodeJS.WriteStream,
  });
}

/** Whether a command shows a progress bar: stderr is a terminal, and neither --json nor --no-progress was given. */
export function wantsProgress(opts: { json?: boolean; progress?: boolean }): boolean {
  return !opts.json && opts.progress !== false && io().stderr.isTTY === true;
}
