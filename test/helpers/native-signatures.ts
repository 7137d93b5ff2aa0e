// The two descriptions of the addon's functions, read from source: the C++ bindings
// (native/addon/*.cc: MPF_BINDING(name), the signature comment "// name(a, b, c) -> ..." that
// documents each one, and the argument indices its body reads) and the TypeScript interface
// (bindings/native.ts, parsed with the TypeScript compiler). test/bindings.test.ts compares them
// with each other and with what the loaded addon registers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** One C++ binding: its documented parameters and the highest argument index its code reads. */
export interface CppBinding {
  name: string;
  file: string;
  /** Parameter count of the signature comment, or null when the file documents none. */
  documentedArity: number | null;
  /** 1 + the largest literal argument index read by the body and the helpers it passes `info` / `a` to. */
  readArity: number;
}

/** Top-level commas + 1 of a parameter list ("" -> 0); brackets and quotes nest. */
function countParams(list: string): number {
  if (list.trim() === '') return 0;
  let depth = 0;
  let n = 1;
  for (const ch of list) {
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === ',' && depth === 0) n++;
  }
  return n;
}

/** The text of `// name(...)` in a file's comments, continued over the following comment lines. */
function documentedParams(lines: string[], name: string): string | null {
  const start = lines.findIndex((l) => new RegExp(`^\\s*//\\s*${name}\\(`).test(l));
  if (start < 0) return null;
  let text = '';
  for (let i = start; i < lines.length && /^\s*\/\//.test(lines[i] ?? ''); i++) text += ' ' + (lines[i] ?? '').replace(/^\s*\/\/\s?/, '');
  const open = text.indexOf(`${name}(`) + name.length;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return null;
}

/** From an opening brace at `from`, the text up to its matching close. */
function braceBlock(src: string, from: number): string {
  let depth = 0;
  for (let i = from; i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return src.slice(from, i + 1);
  }
  return src.slice(from);
}

const ARG_READ = /\b\w+\.(?:device|dtype|tensor|opt_tensor|tensors|integer|number|number_in|boolean|string|ints|shape|at|is_nullish)\((\d+)\b|\binfo\[(\d+)\]/g;

function maxIndex(code: string): number {
  let max = -1;
  for (const m of code.matchAll(ARG_READ)) max = Math.max(max, Number(m[1] ?? m[2]));
  return max;
}

/** Every MPF_BINDING in native/addon/, with what its comment documents and what its code reads. */
export function cppBindings(repoRoot: string): CppBinding[] {
  const dir = join(repoRoot, 'native', 'addon');
  const out: CppBinding[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cc')).sort()) {
    const src = readFileSync(join(dir, f), 'utf8');
    const lines = src.split('\n');
    for (const m of src.matchAll(/MPF_BINDING\((\w+)\)\s*\{/g)) {
      const name = m[1] ?? '';
      let body = braceBlock(src, (m.index ?? 0) + m[0].length - 1);
      // Helpers the body hands its arguments to (same file): their reads count too.
      for (const call of body.matchAll(/\b(\w+)\((?:info|a|args)\b/g)) {
        const def = new RegExp(`\\b${call[1]}\\([^)]*(?:CallbackInfo|Args)&[^)]*\\)\\s*\\{`).exec(src);
        if (def) body += braceBlock(src, def.index + def[0].length - 1);
      }
      const params = documentedParams(lines, name);
      out.push({ name, file: `native/addon/${f}`, documentedArity: params === null ? null : countParams(params), readArity: maxIndex(body) + 1 });
    }
  }
  return out;
}

/** Function members of the interfaces in bindings/native.ts: name -> parameter count. */
export function declaredFunctions(repoRoot: string): Map<string, number> {
  const path = join(repoRoot, 'bindings', 'native.ts');
  const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, number>();
  const visit = (node: ts.Node): void => {
    if (ts.isInterfaceDeclaration(node)) {
      for (const member of node.members) {
        if (ts.isMethodSignature(member)) out.set(member.name.getText(sf), member.parameters.length);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}
