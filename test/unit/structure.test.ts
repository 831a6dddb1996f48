// The tree's layering, checked (docs/ARCHITECTURE.md, "Map of the rooms"):
//   native/nl   the netlink wire layer: includes only itself and system headers,
//               and names none of its callers (rtnl, nft, ct, the handle, src/)
//   native/nft  the nf_tables codec: does not include the I/O thread (handle.hpp)
//   lib/        no import cycle (runtime imports: `import type` is erased)
//   src/        no file over 400 lines (one file per object)
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function filesUnder(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, re));
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

/** The `#include "..."` of a C++ file, resolved to paths relative to the repository. */
export function quotedIncludes(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)].map((m) => path.relative(ROOT, path.resolve(path.dirname(file), m[1])));
}

/**
 * The runtime imports of a lib/ file: `import ... from './x'` (not `import type`,
 * nor one whose every name is `type`), `export ... from './x'`, `import('./x')`
 * and `require('./x')`; local modules only, as names ('link', 'namespace').
 */
export function runtimeImports(source: string): string[] {
  const out = new Set<string>();
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(/^\s*(import|export)\s+([\s\S]*?)\s+from\s+'(\.\/[^']+)'/gm)) {
    const clause = m[2].trim();
    if (clause.startsWith('type ')) continue;
    const braces = /^\{([\s\S]*)\}$/.exec(clause);
    if (
      braces &&
      braces[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '))
    )
      continue;
    out.add(m[3]);
  }
  for (const m of code.matchAll(/^\s*import\s+'(\.\/[^']+)'/gm)) out.add(m[1]);
  for (const m of code.matchAll(/\b(?:import|require)\s*\(\s*'(\.\/[^']+)'\s*\)/g)) out.add(m[1]);
  return [...out].map((s) => s.replace(/^\.\//, '').replace(/\.(js|ts)$/, ''));
}

/** Every cycle's strongly connected component (more than one module, or a module importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.reverse());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('structure', () => {
  test('native/nl includes only native/nl and system headers; native/nft does not include handle.hpp', () => {
    const bad: string[] = [];
    for (const f of filesUnder(path.join(ROOT, 'native', 'nl'), /\.(hpp|cpp|h)$/)) {
      for (const inc of quotedIncludes(f)) if (!inc.startsWith(`native${path.sep}nl${path.sep}`)) bad.push(`${path.relative(ROOT, f)} includes ${inc}`);
    }
    for (const f of filesUnder(path.join(ROOT, 'native', 'nft'), /\.(hpp|cpp|h)$/)) {
      for (const inc of quotedIncludes(f)) if (inc === path.join('native', 'handle.hpp')) bad.push(`${path.relative(ROOT, f)} includes ${inc}`);
    }
    expect(bad).toEqual([]);
  });

  test('native/nl names none of its callers (their namespaces, request kinds, the I/O thread)', () => {
    const callers =
      /\b(?:rtnl|nft|ct|glue|Napi)::|\b(?:Handle|LocalRequest|LocalContext|OpenRequest|Link|Addr|Route|Nsid|Neigh|Rule|Sysctl|NftBatch|NftDump|NftRuleset|CtFlush)\b/;
    const bad: string[] = [];
    for (const f of filesUnder(path.join(ROOT, 'native', 'nl'), /\.(hpp|cpp|h)$/)) {
      const code = fs
        .readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
      code.split('\n').forEach((line, i) => {
        const m = callers.exec(line);
        if (m) bad.push(`${path.relative(ROOT, f)}:${i + 1} names ${m[0]}`);
      });
    }
    expect(bad).toEqual([]);
  });

  test('lib/ has no import cycle', () => {
    const graph = new Map<string, string[]>();
    for (const f of fs.readdirSync(path.join(ROOT, 'lib')).filter((n) => n.endsWith('.ts'))) {
      graph.set(f.replace(/\.ts$/, ''), runtimeImports(fs.readFileSync(path.join(ROOT, 'lib', f), 'utf8')));
    }
    // The graph is real: index imports most of lib, link imports namespace.
    expect(graph.get('index')!.length).toBeGreaterThan(10);
    expect(graph.get('link')).toContain('namespace');
    expect(cycles(graph)).toEqual([]);
  });

  test('the parsers see what they must (imports of every form, includes)', () => {
    expect(
      runtimeImports(
        [
          "import { a } from './a';",
          "import type { B } from './b';",
          "import { type C, type D } from './c';",
          "import { type E, f } from './e';",
          "import * as g from './g';",
          "export { h } from './h';",
          "import './i';",
          "const j = await import('./j');",
          "const k = require('./k');",
          "// import { l } from './l';",
          "import * as fs from 'node:fs';",
        ].join('\n'),
      ).sort(),
    ).toEqual(['a', 'e', 'g', 'h', 'i', 'j', 'k']);
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['a']]]))).toEqual([['a']]);
    expect(quotedIncludes(path.join(ROOT, 'native', 'rtnl', 'rtnl.hpp'))).toContain(path.join('native', 'nl', 'transact.hpp'));
  });

  test('no file in src/ is over 400 lines', () => {
    const long = filesUnder(path.join(ROOT, 'src'), /\.(cc|hpp|h|cpp)$/)
      .map((f) => ({ file: path.relative(ROOT, f), lines: fs.readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > 400);
    expect(long).toEqual([]);
  });
});
