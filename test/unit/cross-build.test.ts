// The addon builds on every Linux Node runs on, not only this x86-64 glibc
// machine: every source binding.gyp lists (src/ and native/) compiles to an
// object file for arm64 (Debian's aarch64-linux-gnu cross compiler), against
// musl (clang + musl's headers + libc++ in its musl configuration), and for
// arm64 with musl (the same, with the arm64 headers of Debian's musl-dev,
// fetched by scripts/cross-build.js --fetch). scripts/cross-build.js does the
// work; `npm test` installs the toolchains and fetches those headers as root
// (scripts/tools.js) before it enters the sandbox. Without one, that target is
// skipped, the test name saying what is missing and what provides it.
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cross = require('../../scripts/cross-build.js') as {
  crossBuild(o: { only?: string[]; jobs?: number }): Promise<Report[]>;
  targets(): { name: string; missing?: string }[];
  readBindingGyp(file?: string): { sources: string[]; defines: string[]; cflags: string[] };
};

interface Report {
  target: string;
  skipped?: string;
  sources?: number;
  objects?: { source: string; machine: number | null; warnings: string }[];
  failed?: { source: string; output: string }[];
}

/** ELF e_machine values (elf.h): EM_X86_64, EM_AARCH64. */
const MACHINE: Record<string, number> = { 'aarch64-linux-gnu': 183, 'x86_64-linux-musl': 62, 'aarch64-linux-musl': 183 };

describe('cross build (object files for arm64, musl, and arm64 with musl)', () => {
  const gyp = cross.readBindingGyp(path.join(__dirname, '..', '..', 'binding.gyp'));

  it('reads the sources from binding.gyp: the addon glue and the native layer', () => {
    expect(gyp.sources).toContain('src/addon.cc');
    expect(gyp.sources).toContain('native/handle.cpp');
    expect(gyp.sources.every((s) => /^(src|native)\//.test(s))).toBe(true);
    expect(gyp.defines).toContain('NAPI_CPP_EXCEPTIONS');
    expect(gyp.cflags).toContain('-std=c++20');
    expect(cross.targets().map((t) => t.name)).toEqual(['aarch64-linux-gnu', 'x86_64-linux-musl', 'aarch64-linux-musl']);
  });

  for (const t of cross.targets()) {
    const name = `${t.name}: every source compiles`;
    if (t.missing) {
      it.skip(`${name} (skipped: ${t.missing})`, () => undefined);
      continue;
    }
    it(
      name,
      async () => {
        const [r] = await cross.crossBuild({ only: [t.name], jobs: 2 });
        expect(r.skipped).toBeUndefined();
        const failed = (r.failed ?? []).map((f) => `${f.source}:\n${f.output}`);
        expect(failed).toEqual([]);
        expect(r.objects!.map((o) => o.source).sort()).toEqual([...gyp.sources].sort());
        for (const o of r.objects!) expect({ source: o.source, machine: o.machine }).toEqual({ source: o.source, machine: MACHINE[t.name] });
      },
      // 26 sources at -j2 took 3 min 40 s on the loaded 2-core machine.
      600_000,
    );
  }
});
