import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * trove's native parts, built by scripts/build-native.mjs (`npm run
 * build:native`) into build/native/ at the top of the project, beside dist/.
 * Each has a fallback in JavaScript, so a missing one costs speed, not
 * function: the view serves through libfuse 2, a checkout links in a worker
 * thread, a commit lists and states each directory as it walks it, the view
 * reads no object files ahead and reads its trees ahead one by one.
 */
export type AddonName = 'fuse3' | 'linker' | 'dirscan';

/** Where `npm run build:native` puts addon `name`. */
export function addonPath(name: AddonName): string {
  return fileURLToPath(new URL(`../../build/native/${name}.node`, import.meta.url));
}

const loaded = new Map<AddonName, unknown>();

/** Addon `name`, or null when it is not built or cannot load (a library it needs is missing, say). */
export function loadAddon<T>(name: AddonName): T | null {
  if (!loaded.has(name)) {
    let addon: unknown = null;
    try {
      addon = createRequire(import.meta.url)(addonPath(name));
    } catch {
      // Not built here: the caller falls back.
    }
    loaded.set(name, addon);
  }
  return loaded.get(name) as T | null;
}
