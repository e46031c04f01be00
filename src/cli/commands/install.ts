import type { Command } from 'commander';
import { installPackages } from '../../system/generations/install.js';
import { registerDerive } from '../derive.js';

export function register(program: Command): void {
  registerDerive(
    program,
    'install',
    'a new generation: the active one plus (or with newer) packages, then activate it',
    'NAME[/ARCH][@REVISION][=PRIORITY]; their dependencies come too (a dependency the active generation satisfies stays as it is)',
    'exactly the packages named, without their dependencies',
    installPackages,
  );
}
