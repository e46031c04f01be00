import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../eslint.config.js';
import { ROOT } from './helpers/tmp.js';

/** The layer rule's messages for `code` placed at `filePath` (relative to the project root). */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layer rule', () => {
  it('names every folder of src/ as a layer', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'types')
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual([...LAYERS].sort());
  });

  it('fails the lint when a module imports a layer above its own', async () => {
    expect(await layerErrors('src/repo/planted.ts', "import { systemRoots } from '../system/roots.js';\nexport const x = systemRoots;\n")).toHaveLength(1);
    expect(await layerErrors('src/system/bisect/planted.ts', "import type { Command } from '../../cli/main.js';\nexport type X = Command;\n")).toHaveLength(1);
    expect(await layerErrors('src/util/planted.ts', "import { Repo } from '../repo/repo.js';\nexport const r = Repo;\n")).toHaveLength(1);
    expect(await layerErrors('src/store/planted.ts', "export { Refs } from '../refs/refs.js';\n")).toHaveLength(1);
  });

  it('lets a module import its own layer and the layers below', async () => {
    expect(await layerErrors('src/system/planted.ts', "import { Repo } from '../repo/repo.js';\nimport { DEFAULT_PROFILE } from './profiles.js';\nexport const x = [Repo, DEFAULT_PROFILE];\n")).toEqual([]);
    expect(await layerErrors('src/repo/import/planted.ts', "import { TreeBuilder } from './builder.js';\nimport { Refs } from '../../refs/refs.js';\nexport const x = [TreeBuilder, Refs];\n")).toEqual([]);
  });

  it('holds for the whole source tree', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const results = await eslint.lintFiles(['src']);
    const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line}: ${m.message}`));
    expect(broken).toEqual([]);
  });
});
