// One error format for every worker thread (data loader, upscale model): what crosses the thread
// boundary, and how the caller's side turns it back into the same class, so callers can branch on
// it (`instanceof ImageError`, `instanceof RangeError`) and the CLI's exit codes stay right
// (TypeError / RangeError mean bad input). The classes named here live in modules without heavy
// imports (no sharp), so a worker that only serialises errors stays light.
import { DatasetFileError } from '../data/dataset-file-error.js';
import { ImageError, type ImageErrorCode } from '../io/image-error.js';
import { SafetensorsError } from '../io/safetensors.js';
import { ConfigError } from '../util/validate.js';

/** An error as it crosses a thread boundary (structured-clonable, class reduced to its name). */
export interface SerializedError {
  /** The class's name (`ImageError`, `RangeError`, ...). */
  name: string;
  message: string;
  stack?: string;
  /** ImageError's file. */
  path?: string;
  /** ImageError's kind, or a Node system error's code. */
  code?: string;
  /** DatasetFileError's file. */
  file?: string;
  cause?: SerializedError;
}

/** How many causes deep a serialised error goes (a cycle or a long chain stops there). */
const MAX_CAUSES = 4;

/** Reduce an error (or any thrown value) to what can be posted to another thread. */
export function serializeError(e: unknown, depth = 0): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & { path?: unknown; code?: unknown; file?: unknown };
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const s: SerializedError = { name: e.name, message: e.message, stack: e.stack, path: str(x.path), code: str(x.code), file: str(x.file) };
  if (e.cause !== undefined && depth < MAX_CAUSES) s.cause = serializeError(e.cause, depth + 1);
  return s;
}

type Make = (s: SerializedError, options: { cause?: unknown }) => Error;

const CLASSES: Record<string, Make> = {
  ImageError: (s, o) => new ImageError(s.message, s.path ?? '<unknown>', (s.code ?? 'CORRUPT') as ImageErrorCode, o),
  DatasetFileError: (s, o) => new DatasetFileError(s.message, s.file ?? '<unknown>', o),
  ConfigError: (s, o) => new ConfigError(s.message, o),
  SafetensorsError: (s, o) => new SafetensorsError(s.message, o),
  TypeError: (s, o) => new TypeError(s.message, o),
  RangeError: (s, o) => new RangeError(s.message, o),
  SyntaxError: (s, o) => new SyntaxError(s.message, o),
};

/**
 * The error a worker reported, as the same class where it is one of ours or a built-in one (an
 * unknown class becomes an Error that keeps the name). `where` names the thread in the stack.
 */
export function reviveError(s: SerializedError, where: string): Error {
  const cause = s.cause ? reviveError(s.cause, where) : undefined;
  const options = cause ? { cause } : {};
  const make = CLASSES[s.name];
  const e = make ? make(s, options) : new Error(s.message, options);
  if (!make && s.name) e.name = s.name;
  if (!make && s.code !== undefined) (e as Error & { code?: string }).code = s.code;
  if (s.stack) e.stack = `${s.name}: ${s.message}\n    (in ${where})\n${s.stack.split('\n').slice(1).join('\n')}`;
  return e;
}
