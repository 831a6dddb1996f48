// The package as a user gets it: `npm pack`, then the tarball installed into
// a fresh project (npm builds the addon with the node-gyp it carries: no
// node-gyp among netplumb's dependencies), used from CommonJS, from an ES
// module and from TypeScript with `strict`, each running a root snippet here
// in the sandbox: a namespace and a veth pair, checked with `ip -j`.
//
// Offline (the sandbox has no route out): netplumb's dependencies are packed
// from this repository's node_modules and given to the consumer as tarballs.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `ls /run/netns`. */
function netns(): string[] {
  try {
    return fs.readdirSync('/run/netns').sort();
  } catch {
    return [];
  }
}

/** netplumb's runtime dependencies and theirs, as installed in this repository. */
function dependencyClosure(): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const p = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const d of Object.keys(p.dependencies ?? {})) visit(d);
  };
  for (const d of Object.keys(pkg.dependencies)) visit(d);
  return [...seen].sort();
}

/** The snippet each consumer runs; `imports` gives it Namespace, VethPair and netplumb/testing's helpers. */
const SNIPPET = (tag: string) => `
  requireSandbox();
  const ns = await Namespace.create('pkg-${tag}');
  try {
    await VethPair.create('pk0', { namespace: ns, peerName: 'pk1', up: true, peerUp: true });
    const links = ipJson(ns, 'link', 'show');
    console.log(JSON.stringify(links.map((l) => [l.ifname, l.linkinfo?.info_kind ?? null, l.flags.includes('UP')])));
  } finally {
    await ns.delete();
  }
`;

describe('npm pack, then install into a fresh project', () => {
  let tmp: string;
  let tarball: string;
  let consumer: string;
  let files: string[];

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netplumb-package-'));
    const dry = JSON.parse(sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as { files: { path: string }[] }[];
    files = dry[0].files.map((f) => f.path).sort();
    // The real pack runs `prepare` (tsc -p tsconfig.build.json), as a publish would.
    const out = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', tmp], ROOT)) as { filename: string }[];
    tarball = path.join(tmp, out[0].filename);
  }, 120_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists what runs and nothing else', () => {
    const sources = (JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '')) as { targets: { sources: string[] }[] })
      .targets[0].sources;
    for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'binding.gyp', 'bin/netplumb', 'bin/cli.js', 'bin/sandbox.js', 'bin/doctor.js', 'bin/isolation.js',
      'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/testing/index.js', 'dist/lib/testing/index.d.ts', ...sources])
      expect(files).toContain(f);
    const stray = files.filter((f) =>
      /^(test|bench|examples|scripts|docs|\.ci)\/|^dist\/(test|examples|bench)\/|^native\/(test|fuzz)\/|\.map$|\.test\.|^bin\/.*\.d\.ts$|jest|tsconfig/.test(f),
    );
    expect(stray).toEqual([]);
    // Every header the sources include is there: the install compiles them.
    for (const f of files.filter((x) => /^native\/.*\.(c|h)pp$/.test(x)))
      for (const m of fs.readFileSync(path.join(ROOT, f), 'utf8').matchAll(/#include "([^"]+)"/g))
        expect(files).toContain(path.normalize(path.join(path.dirname(f), m[1])));
  });

  it('LICENSE is MIT; node-gyp is no runtime dependency', () => {
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 netplumb contributors\n/);
    expect(Object.keys(pkg.dependencies)).not.toContain('node-gyp');
    expect(Object.keys(pkg.devDependencies)).toContain('node-gyp');
  });

  it('the declarations leave out @internal members and point at no map', () => {
    const x = fs.mkdtempSync(path.join(tmp, 'x-'));
    sh('tar', ['-xzf', tarball, '-C', x], tmp);
    const dist = path.join(x, 'package', 'dist', 'lib');
    const all = fs.readdirSync(dist, { recursive: true }).map(String).filter((f) => /\.(js|d\.ts)$/.test(f));
    expect(all.length).toBeGreaterThan(20);
    for (const f of all) expect({ f, map: /sourceMappingURL/.test(fs.readFileSync(path.join(dist, f), 'utf8')) }).toEqual({ f, map: false });
    const dts = all.filter((f) => f.endsWith('.d.ts')).map((f) => fs.readFileSync(path.join(dist, f), 'utf8')).join('\n');
    expect(dts).not.toMatch(/_setConnectFaultHook|_setConntrackCleanup|withNatLock/);
    const ns = fs.readFileSync(path.join(dist, 'namespace.d.ts'), 'utf8');
    expect(ns).toMatch(/readonly inode: number;/); // the public neighbours are there
    expect(ns).not.toMatch(/readonly fd: number;|readonly handle:/);
  });

  it(
    'installs into a fresh project, building the addon with npm\'s own node-gyp',
    () => {
      const deps = path.join(tmp, 'deps');
      fs.mkdirSync(deps);
      const dependencies: Record<string, string> = { [pkg.name]: `file:${tarball}` };
      for (const d of dependencyClosure()) {
        const [t] = JSON.parse(sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', deps, path.join(ROOT, 'node_modules', d)], tmp)) as {
          filename: string;
        }[];
        dependencies[d] = `file:${path.join(deps, t.filename)}`;
      }
      consumer = path.join(tmp, 'consumer');
      fs.mkdirSync(consumer);
      fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies }, null, 2));
      sh('npm', ['install', '--offline', '--no-audit', '--no-fund'], consumer, { ...process.env, JOBS: '2' });
      const installed = path.join(consumer, 'node_modules', 'netplumb');
      expect(fs.existsSync(path.join(installed, 'build', 'Release', 'netplumb.node'))).toBe(true);
      expect(fs.existsSync(path.join(consumer, 'node_modules', 'node-gyp'))).toBe(false);
      expect(fs.existsSync(path.join(installed, 'native', 'test'))).toBe(false);
    },
    240_000,
  );

  function runs(file: string) {
    const before = netns();
    const out = sh(process.execPath, [file], consumer);
    expect(netns()).toEqual(before);
    return JSON.parse(out.trim().split('\n').at(-1)!) as [string, string | null, boolean][];
  }

  const EXPECTED = [
    ['lo', null, false],
    ['pk0', 'veth', true],
    ['pk1', 'veth', true],
  ];
  const sorted = (l: [string, string | null, boolean][]) => [...l].sort((a, b) => a[0].localeCompare(b[0]));

  it('CommonJS: require("netplumb") and require("netplumb/testing")', () => {
    fs.writeFileSync(
      path.join(consumer, 'index.cjs'),
      `const { Namespace, VethPair } = require('netplumb');\nconst { requireSandbox, ipJson } = require('netplumb/testing');\n(async () => {${SNIPPET('cjs')}})().catch((e) => { console.error(e); process.exit(1); });\n`,
    );
    expect(sorted(runs('index.cjs'))).toEqual(EXPECTED);
  });

  it('ES module: named imports from "netplumb" and "netplumb/testing"', () => {
    fs.writeFileSync(
      path.join(consumer, 'index.mjs'),
      `import { Namespace, VethPair } from 'netplumb';\nimport { requireSandbox, ipJson } from 'netplumb/testing';\n${SNIPPET('esm')}\n`,
    );
    expect(sorted(runs('index.mjs'))).toEqual(EXPECTED);
  });

  it('TypeScript strict (node16 and node10 resolution), the library\'s .d.ts checked too; then run', () => {
    const src = path.join(consumer, 'ts');
    fs.mkdirSync(src);
    fs.writeFileSync(
      path.join(src, 'index.ts'),
      `import { Namespace, VethPair, NetlinkError, type AddressInfo } from 'netplumb';
import { requireSandbox, ipJson, withNamespaces, skipUnlessKind } from 'netplumb/testing';

export const unused: [typeof withNamespaces, typeof skipUnlessKind, AddressInfo | undefined, typeof NetlinkError] = [withNamespaces, skipUnlessKind, undefined, NetlinkError];
export function internals(ns: Namespace): void {
  // @ts-expect-error @internal: not in the published declarations
  void ns.fd;
  // @ts-expect-error @internal: not in the published declarations
  void ns.handle;
}
async function main(): Promise<void> {${SNIPPET('ts').replace('links.map((l) =>', 'links.map((l: { ifname: string; linkinfo?: { info_kind?: string }; flags: string[] }) =>')}}
main().catch((e: unknown) => { console.error(e); process.exit(1); });
`,
    );
    const base = {
      strict: true,
      noEmit: false,
      skipLibCheck: false,
      target: 'ES2022',
      lib: ['ES2022', 'ESNext.Disposable'],
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      rootDir: src,
    };
    const configs = {
      'tsconfig.json': { ...base, module: 'node16', moduleResolution: 'node16', outDir: path.join(consumer, 'out') },
      'tsconfig.node10.json': { ...base, module: 'commonjs', moduleResolution: 'node10', noEmit: true },
    };
    for (const [name, compilerOptions] of Object.entries(configs)) {
      fs.writeFileSync(path.join(consumer, name), JSON.stringify({ compilerOptions, files: [path.join(src, 'index.ts')] }, null, 2));
      const r = spawnSync(process.execPath, [TSC, '-p', name], { cwd: consumer, encoding: 'utf8' });
      expect({ name, out: `${r.stdout}${r.stderr}`, status: r.status }).toEqual({ name, out: '', status: 0 });
    }
    expect(sorted(runs(path.join('out', 'index.js')))).toEqual(EXPECTED);
  }, 120_000);

  it('the installed package loads its hot path from the bundle, with V8 taking the code cache', () => {
    // npm gives every installed file one mtime: lib/hot.ts must still find the
    // bundle current (dist/lib/hot.bundle, hot.cache, made by `prepare`).
    const hot = path.join(consumer, 'node_modules', 'netplumb', 'dist', 'lib', 'hot.js');
    const out = sh(
      process.execPath,
      [
        '-e',
        `const np = require('netplumb'); void np.Address; void np.Route;
         const s = [...require(${JSON.stringify(hot)}).hotScripts().values()];
         console.log(JSON.stringify({ fromBundle: s.length >= 8, rejected: s.filter((x) => x.cachedDataRejected).length }));`,
      ],
      consumer,
    );
    expect(JSON.parse(out.trim())).toEqual({ fromBundle: true, rejected: 0 });
  });

  it('the installed CLI answers: --version, --help', () => {
    const bin = path.join(consumer, 'node_modules', '.bin', 'netplumb');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
    expect(execFileSync(bin, ['--help'], { encoding: 'utf8' })).toMatch(/netplumb sandbox/);
  });
});
