import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/tmp.js';

/** The import rule's messages for `code` placed at `filePath` (relative to the project root). */
async function importErrors(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the command-module rule', () => {
  it('fails the lint when a command module imports another command module', async () => {
    expect(await importErrors('src/cli/commands/planted.ts', "import { register } from './gen.js';\nexport const x = register;\n")).toHaveLength(1);
    expect(await importErrors('src/cli/commands/planted.ts', "export { register } from '../commands/switch.js';\n")).toHaveLength(1);
  });

  it('lets a command module import the shared cli modules and the layers below', async () => {
    const code =
      "import { print } from '../context.js';\nimport { printBuild, shortId } from '../printers.js';\n" +
      "import { registerDerive } from '../derive.js';\nimport { Repo } from '../../repo/repo.js';\n" +
      'export const x = [print, printBuild, shortId, registerDerive, Repo];\n';
    expect(await importErrors('src/cli/commands/planted.ts', code)).toEqual([]);
  });

  it('holds for every command module', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const results = await eslint.lintFiles(['src/cli']);
    const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line}: ${m.message}`));
    expect(broken).toEqual([]);
  });
});
