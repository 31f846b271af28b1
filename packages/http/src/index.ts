export * from './credential.js';
export * from './reply.js';
export * from './body.js';
export * from './guard.js';
export * from './server.js';
