export * from './wire.js';
export * from './admin.js';
export * from './server.js';
export * from './client.js';
export * from './memory-admin.js';
export * from './memory-host.js';
export * from './config.js';
