// ModuleList: children named 0, 1, 2 ... like torch.nn.ModuleList, so parameter names carry the
// index ("cpbs.3.up.0.c1.weight").
import { Module } from './module.js';

/** An indexed list of modules, named 0, 1, ... in the state dict. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly #items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.push(m);
  }

  /** Append a module; returns the list. */
  push(m: M): this {
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }

  /** The module at index `i`. */
  at(i: number): M {
    const m = this.#items[i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range (length ${this.#items.length})`);
    return m;
  }

  /** Number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /** Iterate over the modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
}
