// Kept apart from the worker pool so that code which only names the class (worker error revival)
// does not load the pool.

/** A file a dataset cannot use: missing partner, sizes that do not pair, too small for the patch. */
export class DatasetFileError extends RangeError {
  override name = 'DatasetFileError';
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
