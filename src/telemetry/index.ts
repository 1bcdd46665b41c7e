/** Public surface of telemetry: logging (metrics and tracing arrive with issue 6). */
export { createLogger, flushLogger, LOG_LEVELS, type Logger, type LoggerOptions } from './logger.js';
