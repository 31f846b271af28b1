export * from './errors.js';
export * from './keyfiles.js';
export * from './json.js';
export * from './storage.js';
export * from './config.js';
export * from './control.js';
export * from './log.js';
export * from './daemon.js';
