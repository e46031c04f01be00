export * from './codec.js';
export * from './names.js';
export * from './types.js';
