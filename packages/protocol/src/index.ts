export * from './bytes.js';
export * from './terms.js';
export * from './config.js';
export * from './report.js';
export * from './messages.js';
export * from './v2/index.js';
