import { badRef, locked } from '../util/errors.js';
import type { ObjectId } from '../util/hash.js';
import type { Release } from '../store/lock.js';
import type { Refs } from './refs.js';
import { crashPoint } from '../util/crash-point.js';

/** A ref by name and namespace (default `heads`). */
export interface RefKey {
  name: string;
  ns?: string;
}

/** One compare-and-swap: move `name` from `expected` (null: the ref does not exist) to `id`. */
export interface RefUpdate extends RefKey {
  expected: ObjectId | null;
  id: ObjectId;
}

/** Options of `RefTransaction.update` and `updateRefs`. */
export interface RefUpdateOptions {
  /** What the E_LOCKED message tells the user to do (default `retry`). */
  retry?: string;
}

const keyOf = (k: RefKey): string => `${k.ns ?? 'heads'}/${k.name}`;

/**
 * Refuses (E_BAD_REF) a set of ref names of which two cannot both exist in
 * one namespace: `a` and `a/b` (a ref cannot also be a directory of refs).
 * Linear in the names times their depth.
 */
export function assertNamesCompatible(keys: RefKey[]): void {
  const names = new Set(keys.map(keyOf));
  for (const k of keys) {
    const parts = k.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (names.has(keyOf({ name: prefix, ns: k.ns }))) {
        throw badRef(`refs ${prefix} and ${k.name} cannot both exist (a ref cannot also be a directory of refs)`, { ref: k.name });
      }
    }
  }
}

/**
 * Checks, before anything is fetched or moved, that every ref of `keys` can
 * be written: the names against each other (assertNamesCompatible) and each
 * ref that does not exist yet against the existing refs (`Refs.assertFree`).
 * E_BAD_REF naming the first clash.
 */
export async function assertRefsCanMove(refs: Refs, keys: RefKey[]): Promise<void> {
  assertNamesCompatible(keys);
  for (const k of keys) if ((await refs.read(k.name, k.ns)) === undefined) await refs.assertFree(k.name, k.ns);
}

/**
 * The update locks of a set of refs, held together. They are taken in one
 * sorted order, each once, so two transactions over overlapping refs never
 * deadlock; a read-modify-write (read the tips, compute the new ids, update)
 * holds them from the read to the update so that concurrent ones chain.
 */
export class RefTransaction {
  private released = false;

  private constructor(
    private readonly refs: Refs,
    private readonly held: Set<string>,
    private readonly releases: Release[],
  ) {}

  /** Takes the update locks of `keys`, waiting for their holders. */
  static async lock(refs: Refs, keys: RefKey[]): Promise<RefTransaction> {
    const unique = new Map<string, RefKey>();
    for (const k of keys) unique.set(keyOf(k), k);
    const releases: Release[] = [];
    try {
      for (const key of [...unique.keys()].sort()) {
        const k = unique.get(key)!;
        releases.push(await refs.lock(k.name, k.ns));
      }
    } catch (err) {
      for (const release of releases.reverse()) await release();
      throw err;
    }
    return new RefTransaction(refs, new Set(unique.keys()), releases);
  }

  /** The id a held ref points at now, or null. */
  async read(name: string, ns = 'heads'): Promise<ObjectId | null> {
    return (await this.refs.read(name, ns)) ?? null;
  }

  /**
   * Moves every ref of `updates` (each held by this transaction) or none:
   * first every compare-and-swap is checked (E_LOCKED when a ref holds
   * something other than its `expected`) and every new name is checked
   * against the others and the existing refs (E_BAD_REF for `a` next to
   * `a/b`); then the refs move. Should a move still fail, those already
   * moved are put back.
   */
  async update(updates: RefUpdate[], opts: RefUpdateOptions = {}): Promise<void> {
    if (this.released) throw new Error('ref transaction already released');
    const seen = new Set<string>();
    for (const u of updates) {
      const key = keyOf(u);
      if (!this.held.has(key)) throw new Error(`ref ${key} is not locked by this transaction`);
      if (seen.has(key)) throw badRef(`ref ${u.name} is named twice in one update`, { ref: u.name });
      seen.add(key);
    }
    assertNamesCompatible(updates);
    for (const u of updates) {
      const now = await this.read(u.name, u.ns);
      if (now !== u.expected) {
        throw locked(`ref ${u.name} moved to ${now ?? 'nothing'} while this update expected ${u.expected ?? 'no ref'}; ${opts.retry ?? 'retry'}`, { ref: u.name, expected: u.expected ?? null, actual: now ?? null });
      }
      if (u.expected === null) await this.refs.assertFree(u.name, u.ns);
    }
    const moved: RefUpdate[] = [];
    try {
      for (const u of updates) {
        await this.refs.write(u.name, u.id, u.ns);
        crashPoint('refs:write');
        moved.push(u);
      }
    } catch (err) {
      // The locks are held: nothing else moved these refs, so their old values are still the right ones.
      for (const u of moved.reverse()) {
        const undo = u.expected === null ? this.refs.delete(u.name, u.ns, { held: true }) : this.refs.write(u.name, u.expected, u.ns);
        await undo.catch(() => {});
      }
      throw err;
    }
  }

  /** Releases every lock (idempotent). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const release of this.releases.reverse()) await release();
  }
}

/** Locks the refs of `updates`, moves all of them or none (see RefTransaction.update), and unlocks. */
export async function updateRefs(refs: Refs, updates: RefUpdate[], opts: RefUpdateOptions = {}): Promise<void> {
  const txn = await RefTransaction.lock(refs, updates);
  try {
    await txn.update(updates, opts);
  } finally {
    await txn.release();
  }
}
