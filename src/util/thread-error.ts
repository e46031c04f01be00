/**
 * Errors that cross from a worker thread to the thread that started it. A
 * Node system error does not survive `postMessage` with its fields, so the
 * worker sends them as a plain object and the other side rebuilds an Error
 * with the same message, code, errno, syscall and paths: the caller reports
 * a failed link or write exactly as if it had made the call itself.
 */

/** A worker's error as it travels: its message and the fields of a system error. */
export type ThreadError = Record<string, unknown> & { message: string };

/** Source of `errorOf(err)` for a worker script given as a string (`new Worker(..., { eval: true })`). */
export const ERROR_OF_SOURCE = `const errorOf = (err) => ({ message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, dest: err.dest });`;

/** The Error a worker sent through `errorOf`. */
export function errorFromThread(e: ThreadError): Error {
  const { message, ...fields } = e;
  return Object.assign(new Error(message), fields);
}
