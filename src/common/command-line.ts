/** Strict command-line parsing shared by every `gateway` subcommand. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs` with positionals allowed and unknown options refused; a bad line is a UsageError (exit 2). */
export function parseCommandLine<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // Node appends advice about `--` (for positionals that start with '-'), which no
      // gateway command takes: name the option and point at the help instead.
      const name = /'([^']+)'/.exec(e.message)?.[1] ?? e.message;
      throw new UsageError(`unknown option "${name}" (see --help)`);
    }
    throw new UsageError(e.message);
  }
}
