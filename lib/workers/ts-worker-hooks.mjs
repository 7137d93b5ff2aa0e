// Module hooks for ts-worker-bootstrap.mjs: a relative './x.js' imported from a .ts file resolves
// to './x.ts' when only the TypeScript source exists (NodeNext import style), and .ts files are
// transpiled (types stripped, no type check) with the project's own TypeScript. Transpiled files
// are kept in node_modules/.cache/mpfnet-ts-worker/ (keyed by path, size and mtime), so workers
// after the first start without loading TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cacheDir = fileURLToPath(new URL('../../node_modules/.cache/mpfnet-ts-worker/', import.meta.url));
let ts = null;

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js')) {
    const js = new URL(specifier, parent);
    if (!existsSync(fileURLToPath(js))) {
      const tsUrl = new URL(specifier.slice(0, -3) + '.ts', parent);
      if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, format: 'module', shortCircuit: true };
    }
  }
  return next(specifier, context);
}

async function transpile(path, source) {
  ts ??= (await import('typescript')).default;
  return ts.transpileModule(source, {
    fileName: path,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true, esModuleInterop: true },
  }).outputText;
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const path = fileURLToPath(url);
  const st = statSync(path);
  const key = createHash('sha1').update(`${path}\0${st.size}\0${st.mtimeMs}`).digest('hex');
  const cached = join(cacheDir, `${key}.js`);
  if (existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
  const source = await transpile(path, readFileSync(path, 'utf8'));
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, source);
    renameSync(tmp, cached);
  } catch {
    // A read-only checkout still works, only slower.
  }
  return { format: 'module', source, shortCircuit: true };
}
