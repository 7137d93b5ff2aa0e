// The documentation holds together: every relative link and image in README.md and docs/**/*.md
// resolves to a file in the repository (and, for a link to a heading, to a heading that exists), no
// link leaves the repository except to a public site, nothing points into ../shared (which the
// package does not ship), the README stays short, and the docs pages that code comments cite exist.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Every docs page, linked from README.md's documentation list.
const DOC_PAGES = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md').map((f) => `docs/${f}`);

/** README.md and every Markdown file under docs/, except the generated API reference (docs/api). */
function markdownFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const rel = `${dir}/${name}`;
      if (rel === 'docs/api') continue;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out;
}

/** The text with fenced code blocks and inline code spans blanked, so code is never read as links. */
function withoutCode(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Every `[text](target)` and `![alt](target)` target, with an optional "title" dropped. */
function linkTargets(text: string): string[] {
  const targets: string[] = [];
  for (const m of withoutCode(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of text.matchAll(/<img\s[^>]*src="([^"]+)"/g)) targets.push(m[1]!);
  return targets;
}

/** GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped, spaces to '-'. */
function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const files = markdownFiles();

describe('documentation links', () => {
  it('finds the README and the docs pages', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/README.md');
    expect(files.length).toBeGreaterThan(10);
  });

  it('README.md is at most 300 lines', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(300);
  });

  for (const file of files) {
    it(`${file}: every link and image resolves inside the repository`, () => {
      const text = readFileSync(join(root, file), 'utf8');
      const problems: string[] = [];
      expect(text, `${file} mentions ../shared, which the package does not ship`).not.toMatch(/\.\.\/shared/);
      for (const target of linkTargets(text)) {
        if (/^(https?:|mailto:)/.test(target)) {
          if (/^http:/.test(target)) problems.push(`${target}: use https`);
          continue;
        }
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
          problems.push(`${target}: only relative links and public https links are allowed`);
          continue;
        }
        const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
        const abs = pathPart === '' ? join(root, file) : resolve(root, dirname(file), decodeURIComponent(pathPart));
        const rel = relative(root, abs).split(sep).join('/');
        if (rel.startsWith('..') || rel.split('/').includes('shared')) {
          problems.push(`${target}: points outside the repository`);
          continue;
        }
        if (!existsSync(abs)) {
          problems.push(`${target}: ${rel} does not exist`);
          continue;
        }
        if (anchor && abs.endsWith('.md') && !headingAnchors(readFileSync(abs, 'utf8')).has(anchor)) {
          problems.push(`${target}: ${rel} has no heading with anchor '#${anchor}'`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  // Files are renamed now and then; a page that names a file in a code span (`lib/ops/conv.ts`)
  // should not keep the old name. Patterns (`bench/<group>.bench.ts`, `gen_*.py`) are not checked.
  it('every repository path named in a code span exists', () => {
    const missing: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(/`([^`\s]+)`/g)) {
        const path = m[1]!;
        if (!/^(lib|test|bench|tools|bin|examples|native|bindings|data)\//.test(path) || /[<>*{}]/.test(path)) continue;
        if (!existsSync(join(root, path))) missing.push(`${file}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('README.md links every docs page', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const page of DOC_PAGES) expect(readme, page).toContain(`(${page})`);
  });
});

describe('source comments cite the docs, not ../shared', () => {
  const sourceDirs = ['lib', 'native', 'bench', 'test', 'bin', 'tools', 'bindings', 'examples'];
  const sources: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(join(root, dir))) return;
    for (const name of readdirSync(join(root, dir)).sort()) {
      const rel = `${dir}/${name}`;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|mts|mjs|js|cc|cu|h|py|sh|txt|json|md)$/.test(name) && rel !== 'test/docs-links.test.ts') sources.push(rel);
    }
  };
  for (const dir of sourceDirs) walk(dir);
  sources.push('NOTICE.md', 'CMakeLists.txt', 'package.json', 'typedoc.json');

  it('no source file cites SPEC or points into ../shared', () => {
    const offenders = sources.filter((f) => /\bSPEC\b|\.\.\/shared/.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('every docs/<page>.md a source file cites exists', () => {
    const missing = new Set<string>();
    for (const f of sources) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(/\bdocs\/[a-z0-9-]+\.md\b/g)) {
        if (!existsSync(join(root, m[0]))) missing.add(`${f}: ${m[0]}`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
