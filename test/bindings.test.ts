// bindings/native.ts is the addon's typed interface: it must list exactly the functions the addon
// registers, each with the parameters the C++ binding documents and reads, so a renamed or
// reshaped binding fails here instead of surfacing as a skipped test or a runtime TypeError.
import { describe, expect, it } from 'vitest';
import { native } from '../bindings/index.js';
import { repoRoot } from './helpers/cli.js';
import { cppBindings, declaredFunctions } from './helpers/native-signatures.js';

const registered = Object.entries(native as unknown as Record<string, unknown>)
  .filter(([, v]) => typeof v === 'function')
  .map(([k]) => k)
  .sort();
const declared = declaredFunctions(repoRoot);
const cpp = cppBindings(repoRoot);

describe('bindings/native.ts matches the addon', () => {
  it('declares exactly the functions the addon registers', () => {
    expect(registered.length).toBeGreaterThan(50);
    expect([...declared.keys()].sort()).toEqual(registered);
  });

  it('the C++ sources register the same functions (the parser below sees every binding)', () => {
    expect(cpp.map((b) => b.name).sort()).toEqual(registered);
  });

  it('every binding documents its signature, and reads no argument beyond it', () => {
    const undocumented = cpp.filter((b) => b.documentedArity === null).map((b) => `${b.name} (${b.file})`);
    expect(undocumented, 'bindings without a "// name(args) -> result" comment').toEqual([]);
    const overread = cpp.filter((b) => b.readArity > (b.documentedArity ?? 0)).map((b) => `${b.name}: documents ${b.documentedArity}, reads argument ${b.readArity - 1}`);
    expect(overread).toEqual([]);
  });

  it('each declared function has the arity of its C++ binding', () => {
    const mismatched = cpp
      .filter((b) => declared.get(b.name) !== b.documentedArity)
      .map((b) => `${b.name}: native.ts ${declared.get(b.name)} parameters, ${b.file} ${b.documentedArity}`);
    expect(mismatched).toEqual([]);
  });
});
