import type { Command } from 'commander';
import { removePackages } from '../../system/generations/install.js';
import { registerDerive } from '../derive.js';

export function register(program: Command): void {
  registerDerive(program, 'remove', 'a new generation: the active one without packages, then activate it', 'NAME (every arch) or NAME/ARCH', removePackages);
}
