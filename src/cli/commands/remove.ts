import type { Command } from 'commander';
import { removePackages } from '../../system/generations/install.js';
import { registerDerive } from '../derive.js';

export function register(program: Command): void {
  registerDerive(
    program,
    'remove',
    'a new generation: the active one without packages and the dependencies nothing asked for needs any more, then activate it',
    'NAME (every arch) or NAME/ARCH',
    'remove exactly the packages named, keeping dependencies nothing needs any more',
    removePackages,
  );
}
