// Type declarations for ./cli.js (plain CommonJS so it runs uncompiled).
import type { Writer } from './sandbox';

export interface Command {
  name: string;
  /** One line, in `netplumb --help`. */
  summary: string;
  /** The usage line, in `netplumb --help`. */
  synopsis: string;
  /** The full text of `netplumb help NAME` and `netplumb NAME --help`. */
  usage: string;
  /** Gets the arguments after NAME; resolves with the exit status. */
  run: (argv: string[]) => Promise<number> | number;
  /** The command reads --help itself. */
  ownHelp?: boolean;
}

export function main(argv: string[], io?: { stdout?: Writer; stderr?: Writer }): Promise<number>;
export function registerCommand(cmd: Command): void;
export const COMMANDS: readonly Command[];
export function version(): string;
export function help(): string;
