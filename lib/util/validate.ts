// Strict validation of JSON-like configs: unknown fields and bad values are rejected with the
// field's full path ("stages[1].lr") and, for likely typos, the field that was probably meant.

/** A config that failed validation (a RangeError: bad input). */
export class ConfigError extends RangeError {
  override name = 'ConfigError';
}

export function fail(where: string, msg: string): never {
  throw new ConfigError(`${where}: ${msg}`);
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Throws for the first key of `obj` not in `allowed`, suggesting the closest allowed key. */
export function rejectUnknown(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    let best = '';
    let bestD = Infinity;
    for (const a of allowed) {
      const d = editDistance(k, a);
      if (d < bestD) [best, bestD] = [a, d];
    }
    const hint = bestD <= Math.max(2, Math.floor(k.length / 3)) ? ` (did you mean '${best}'?)` : ` (known fields: ${allowed.join(', ')})`;
    fail(where, `unknown field '${k}'${hint}`);
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function requireObject(v: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(v)) fail(where, `must be an object, got ${describe(v)}`);
  return v;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `an array ${JSON.stringify(v).slice(0, 60)}`;
  // String() is the last resort for what JSON cannot write (functions, symbols, BigInts, cycles).
  try {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    return JSON.stringify(v)?.slice(0, 60) ?? String(v);
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    return String(v);
  }
}

export function integer(v: unknown, where: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(where, `must be an integer, got ${describe(v)}`);
  if (v < min || v > max) fail(where, `must be ${max === Infinity ? `>= ${min}` : min === -Infinity ? `<= ${max}` : `in ${min}..${max}`}, got ${v}`);
  return v;
}

export function number(v: unknown, where: string, o: { min?: number; max?: number; exclusiveMin?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, `must be a finite number, got ${describe(v)}`);
  if (o.min !== undefined && (o.exclusiveMin ? v <= o.min : v < o.min)) fail(where, `must be ${o.exclusiveMin ? '>' : '>='} ${o.min}, got ${v}`);
  if (o.max !== undefined && v > o.max) fail(where, `must be <= ${o.max}, got ${v}`);
  return v;
}

export function boolean(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') fail(where, `must be true or false, got ${describe(v)}`);
  return v;
}

export function string(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail(where, `must be a non-empty string, got ${describe(v)}`);
  return v;
}

export function oneOf<T extends string | number>(v: unknown, allowed: readonly T[], where: string): T {
  if (!allowed.includes(v as T)) fail(where, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(v)}`);
  return v as T;
}
