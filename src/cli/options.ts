import { usage } from '../util/errors.js';

/** An integer option's value, at least `min`; a usage error naming the option otherwise. */
export function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw usage(`${name} must be an integer >= ${min}`);
  return n;
}
