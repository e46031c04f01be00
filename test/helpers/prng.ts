// A small deterministic PRNG (mulberry32), so that a failing seed can be replayed; shared with the bench.
export { prng } from '../../bench/prng.mjs';
