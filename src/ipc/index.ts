export * from './snapshot.js';
export * from './messages.js';
export * from './tracing-config.js';
export { parsePattern, type ParsedPattern, type PatternSegment } from './route-pattern.js';
export * from './resilience-config.js';
export * from './security-config.js';
export * from './auth-config.js';
export { IpcCalls } from './ipc-calls.js';
export * from './header-names.js';
