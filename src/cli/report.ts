import { EXIT_CODES, isTroveError, type ErrorCode, type ErrorData } from '../util/errors.js';
import { io } from '../util/io.js';

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

/** Reports what a command threw (a TroveError with its code, anything else as E_IO) and returns the exit code. */
export function reportFailure(err: unknown, json: boolean): number {
  if (isTroveError(err)) return reportError(json, err.code, err.message, err.data);
  const e = err as NodeJS.ErrnoException;
  const message = e.message ?? String(err);
  // Node's system errors already start with their code ("ENOSPC: no space left on device, ...").
  const prefix = e.code && !message.startsWith(`${e.code}:`) ? `${e.code}: ` : '';
  const status = reportError(json, 'E_IO', `${prefix}${message}`);
  if (io().env.TROVE_DEBUG) io().stderr.write(`${e.stack}\n`);
  return status;
}
