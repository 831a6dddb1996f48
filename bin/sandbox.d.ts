// Type declarations for ./sandbox.js (plain CommonJS so it runs uncompiled).
import type { StdioOptions } from 'node:child_process';

export interface Writer {
  write(s: string): unknown;
}

export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
  stderr?: Writer;
}

export interface SandboxOptions extends RunCommandOptions {
  /** Override the uid used for the root check (defaults to process.getuid()). */
  uid?: number;
  stdout?: Writer;
  /** Replaces the kernel check of ./isolation.js (unit tests of the flow). */
  isolation?: () => { isolated: boolean };
}

export type ParsedSandboxArgs = { help: true } | { help: false; command: string; args: string[] };

/** Run `[--] <command> [args...]` in the sandbox; resolves with the exit status to use. */
export function runInSandbox(argv: readonly string[], options?: SandboxOptions): Promise<number>;
/** Spawn a program with signal relaying; resolves with its shell-style exit status. */
export function runCommand(file: string, args: readonly string[], options?: RunCommandOptions): Promise<number>;
export function isRoot(uid?: number): boolean;
/** @throws UsageError */
export function parseSandboxArgs(argv: readonly string[]): ParsedSandboxArgs;
export function buildSandboxCommand(command: string, args?: readonly string[]): { file: string; args: string[] };
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number;

export class UsageError extends Error {}

export const SETUP_SCRIPT: string;
export const SANDBOX_USAGE: string;
export const SANDBOX_ENV: 'NETPLUMB_SANDBOX';
export const NOT_ROOT_MESSAGE: string;
export const EXIT_NOT_ROOT: 77;
export const EXIT_USAGE: 2;
export const EXIT_SETUP_FAILED: 125;
export const EXIT_NOT_FOUND: 127;
