// Memory scopes and the grad mode. tidy(fn) frees every tensor created inside fn that fn does not
// return (tfjs's tidy); keep(t) lets a tensor outlive its scope. noGrad(fn) runs fn without
// recording the tape.
import type { Tensor } from '../tensor.js';

const scopes: Set<Tensor>[] = [];
let gradEnabled = true;

/** @internal Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}
/** @internal Called by Tensor.dispose. */
export function untrackTensor(t: Tensor): void {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.delete(t)) return;
}

/** Let `t` outlive every enclosing tidy scope. Returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collectTensors(v: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if ((v as { handle?: unknown }).handle !== undefined && 'shape' in v && 'dispose' in v) {
    out.add(v as Tensor);
    return;
  }
  if (Array.isArray(v)) for (const e of v) collectTensors(e, out, seen);
  else if (v instanceof Map) for (const e of v.values()) collectTensors(e, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const e of Object.values(v)) collectTensors(e, out, seen);
}

/**
 * Run fn and dispose every tensor it created except those in its result (a tensor, or arrays /
 * plain objects / Maps of tensors). Returned tensors move to the enclosing scope. fn must be
 * synchronous: tensors created after an await would escape the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TypeError('tidy: fn must be synchronous (it returned a Promise)');
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept, new Set());
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Whether ops record the autograd tape now. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn without recording the tape (inference, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Set the grad mode; returns the previous one. */
export function setGradEnabled(on: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = on;
  return prev;
}

/**
 * For forward passes that free as they go at inference: with the tape off, run fn in a tidy scope
 * (its intermediates are freed when it returns); with the tape on, just run it, because backward
 * needs those intermediates.
 */
export function tidyUnlessRecording<T>(fn: () => T): T {
  return gradEnabled ? fn() : tidy(fn);
}

/** With the tape off, dispose these now (nothing else needs them); with it on, leave them to backward. */
export function releaseUnlessRecording(...ts: Tensor[]): void {
  if (gradEnabled) return;
  for (const t of ts) if (!t.isDisposed) t.dispose();
}
