'use strict';
// `netplumb doctor [--ns NAME] [--json]`: why a published port may get no
// traffic. Reads the namespace's whole nf_tables ruleset (read only) and
// prints the findings of PortMapping.diagnose, once per finding, for the
// namespace's published ports (or for any published port when there are none).
//
// Exit codes: 0 no problems found; 1 at least one error; 3 warnings only;
// 2 usage; 4 the namespace or its ruleset could not be read; 77 not root.

const EXIT_ERRORS = 1;
const EXIT_USAGE = 2;
const EXIT_WARNINGS = 3;
const EXIT_UNREADABLE = 4;
const EXIT_NOT_ROOT = 77;

const DOCTOR_USAGE = `Usage: netplumb doctor [--ns NAME] [--json]

Reads the whole nf_tables ruleset of the namespace NAME (default: this
process's own) and reports what can keep published ports' packets from their
containers: a chain at policy drop on their path, drop/reject rules there,
another table's dnat/redirect that runs before netplumb's. Changes nothing.

  --ns NAME   a named namespace (/run/netns/NAME, ours or iproute2's)
  --json      the findings as a JSON array

Exit: 0 no problems found; 1 errors; 3 warnings only; 2 usage;
${EXIT_UNREADABLE} the namespace or its ruleset could not be read; ${EXIT_NOT_ROOT} not root.`;

function parse(argv) {
  const o = { ns: undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--ns' && i + 1 < argv.length) o.ns = argv[++i];
    else if (a.startsWith('--ns=')) o.ns = a.slice(5);
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else return { error: `unexpected argument '${a}'` };
  }
  return o;
}

async function runDoctor(argv, out = process.stdout, err = process.stderr) {
  const o = parse(argv);
  if (o.error) {
    err.write(`netplumb doctor: ${o.error}\n\n${DOCTOR_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (o.help) {
    out.write(`${DOCTOR_USAGE}\n`);
    return 0;
  }
  if (process.getuid && process.getuid() !== 0) {
    err.write('netplumb doctor: needs root (CAP_NET_ADMIN) to read the nf_tables ruleset\n');
    return EXIT_NOT_ROOT;
  }
  const { Namespace, PortMapping } = require('../dist/lib');
  let ns;
  const findings = [];
  try {
    ns = o.ns !== undefined ? await Namespace.open(o.ns) : await Namespace.current();
    const mappings = await PortMapping.list(ns);
    const seen = new Set();
    for (const m of mappings.length ? mappings : [undefined]) {
      for (const f of await PortMapping.diagnose(ns, m)) {
        const key = `${f.kind} ${f.family} ${f.table} ${f.chain} ${f.handle}`;
        if (!seen.has(key)) seen.add(key), findings.push(f);
      }
    }
  } catch (e) {
    err.write(`netplumb doctor: ${e && e.message ? e.message : e}\n`);
    return EXIT_UNREADABLE;
  } finally {
    if (ns) await ns.close().catch(() => undefined);
  }
  const where = o.ns !== undefined ? `namespace ${o.ns}` : 'this namespace';
  if (o.json) out.write(`${JSON.stringify(findings, null, 2)}\n`);
  else if (!findings.length) out.write(`netplumb doctor: ${where}: no problems found\n`);
  else {
    out.write(`netplumb doctor: ${where}: ${findings.length} finding(s)\n`);
    for (const f of findings) out.write(`${f.severity}: [${f.kind}] ${f.family} ${f.table} ${f.chain}${f.handle !== undefined ? ` handle ${f.handle}` : ''}: ${f.message}\n`);
  }
  if (findings.some((f) => f.severity === 'error')) return EXIT_ERRORS;
  return findings.length ? EXIT_WARNINGS : 0;
}

module.exports = { runDoctor, DOCTOR_USAGE };
