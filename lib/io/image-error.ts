// The error class for image files, apart from the decoder (sharp) so that code which only names
// it (worker error revival, error checks) does not load libvips.

/** Why an image file failed: the kind of problem, for callers that branch on it. */
export type ImageErrorCode = 'NOT_FOUND' | 'CORRUPT' | 'TRUNCATED' | 'UNSUPPORTED' | 'TOO_LARGE' | 'WRITE_FAILED';

/**
 * A file that cannot be read or written as an image. A TypeError, so the CLI reports it as bad
 * input (exit code 2); `path` names the file ('<buffer>' or the given name for in-memory data).
 */
export class ImageError extends TypeError {
  override name = 'ImageError';
  constructor(
    message: string,
    readonly path: string,
    readonly code: ImageErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
