'use strict';
// netplumb command-line interface: the table of subcommands and the
// dispatch. Each subcommand lives in its own file and is registered here
// with a one-line summary, its synopsis and its usage text; `netplumb help
// <command>` and `netplumb <command> --help` print that usage.
//
// A new subcommand (e.g. `cni`) is one more registerCommand() call below:
//   registerCommand({ name: 'cni', summary: '...', synopsis: 'netplumb cni',
//                     usage: CNI_USAGE, run: (argv) => runCni(argv) });
// `run` gets the arguments after the subcommand's name and resolves with the
// exit status. A command that reads its own --help (sandbox, doctor) sees it;
// for the others, `--help` as the first argument prints `usage`.

const { runInSandbox, SANDBOX_USAGE, EXIT_USAGE } = require('./sandbox.js');
const { runDoctor, DOCTOR_USAGE } = require('./doctor.js');
const { runShow, SHOW_USAGE } = require('./show.js');

/** @typedef {{ name: string, summary: string, synopsis: string, usage: string, run: (argv: string[]) => Promise<number> | number, ownHelp?: boolean }} Command */

/** @type {Command[]} */
const COMMANDS = [];

/** @param {Command} cmd */
function registerCommand(cmd) {
  if (COMMANDS.some((c) => c.name === cmd.name)) throw new Error(`netplumb: command '${cmd.name}' registered twice`);
  COMMANDS.push(cmd);
}

registerCommand({
  name: 'sandbox',
  summary: 'Run <command> in a private network + mount namespace.',
  synopsis: 'netplumb sandbox [--] <command> [args...]',
  usage: SANDBOX_USAGE,
  run: (argv) => runInSandbox(argv),
  ownHelp: true,
});

registerCommand({
  name: 'doctor',
  summary: "Report what in the nf_tables ruleset keeps published ports' packets away.",
  synopsis: 'netplumb doctor [--ns NAME] [--json]',
  usage: DOCTOR_USAGE,
  run: (argv) => runDoctor(argv),
  ownHelp: true,
});

registerCommand({
  name: 'show',
  summary: 'Print or draw the topology: namespaces, links, veth pairs, bridges, networks, published ports.',
  synopsis: 'netplumb show [--ns NAME]... [--format text|json|mermaid|dot|svg|html] [--output FILE]',
  usage: SHOW_USAGE,
  run: (argv) => runShow(argv),
  ownHelp: true,
});

registerCommand({
  name: 'cni',
  summary: 'The CNI plugin (netplumb-cni): CNI_COMMAND and the config on stdin, the result on stdout.',
  synopsis: 'netplumb cni   (CNI_COMMAND=ADD|DEL|CHECK|VERSION|STATUS|GC, config on stdin)',
  usage: 'netplumb cni: the CNI plugin, as bin/netplumb-cni. A runtime sets CNI_COMMAND, CNI_CONTAINERID,\nCNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH, writes the network configuration on stdin and\nreads the result (or the error JSON) on stdout. See docs/CNI.md.',
  // The plugin writes its answer and exits by itself.
  run: () => new Promise(() => require('../dist/lib/cni/main.js').main()),
});

registerCommand({
  name: 'cni-daemon',
  summary: 'Serve netplumb-cni requests from its native client (docs/CNI.md, "Fast path").',
  synopsis: 'netplumb cni-daemon [--socket PATH] [--verbose]',
  usage: 'netplumb cni-daemon [--socket PATH] [--verbose]: a resident netplumb that serves the requests of\nnetplumb-cni\'s native client over a unix socket (default /run/netplumb/cni.sock, mode 0600, root\npeers only; the container namespace passed as an fd). Without it the client runs the plugin itself.',
  run: (argv) => require('../dist/lib/cni/daemon.js').main(argv),
});

function version() {
  return require('../package.json').version;
}

function help() {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `netplumb ${version()} - Linux container networking over rtnetlink

Usage:
${COMMANDS.map((c) => `  ${c.synopsis}`).join('\n')}
  netplumb help <command>      (or: netplumb <command> --help)
  netplumb --help | --version

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

'netplumb help <command>' prints the command's options and exit statuses.
`;
}

/**
 * @param {string[]} argv the arguments after `netplumb`
 * @param {{ stdout?: { write(s: string): unknown }, stderr?: { write(s: string): unknown } }} [io]
 * @returns {Promise<number>} the exit status
 */
async function main(argv, io = {}) {
  const out = io.stdout || process.stdout;
  const err = io.stderr || process.stderr;
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    err.write(help());
    return EXIT_USAGE;
  }
  if (sub === '-h' || sub === '--help') {
    out.write(help());
    return 0;
  }
  if (sub === '-V' || sub === '--version') {
    out.write(`${version()}\n`);
    return 0;
  }
  if (sub === 'help') {
    if (rest.length === 0) {
      out.write(help());
      return 0;
    }
    const cmd = COMMANDS.find((c) => c.name === rest[0]);
    if (!cmd) {
      err.write(`netplumb help: no command '${rest[0]}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})\n`);
      return EXIT_USAGE;
    }
    out.write(`${cmd.usage}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === sub);
  if (!cmd) {
    err.write(`netplumb: unknown command '${sub}'\n\n${help()}`);
    return EXIT_USAGE;
  }
  if (!cmd.ownHelp && (rest[0] === '-h' || rest[0] === '--help')) {
    out.write(`${cmd.usage}\n`);
    return 0;
  }
  return cmd.run(rest);
}

module.exports = { main, registerCommand, COMMANDS, version, help };
