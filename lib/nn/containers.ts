// ModuleList: children named 0, 1, 2 ... like torch.nn.ModuleList, so parameter names carry the
// index ("cpbs.3.up.0.c1.weight").
import { Module } from './module.js';

export class ModuleList<M extends Module = Module> extends Module {
  readonly #items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.push(m);
  }

  push(m: M): this {
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }

  at(i: number): M {
    const m = this.#items[i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range (length ${this.#items.length})`);
    return m;
  }

  get length(): number {
    return this.#items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
}
