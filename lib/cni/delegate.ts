// Delegation, as the spec describes it for IPAM: the plugin named by
// ipam.type is found in CNI_PATH and executed with the same environment
// (CNI_COMMAND possibly changed) and the same configuration on stdin; its
// result (or its error) comes back on stdout.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CniCode as K, CniError } from './errors';

/** The executable `type` in CNI_PATH's directories, in order. */
export function findPlugin(type: string, dirs: string[]): string {
  for (const d of dirs) {
    const p = path.join(d, type);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // next directory
    }
  }
  throw new CniError(K.INVALID_ENV, `the IPAM plugin ${JSON.stringify(type)} was not found in CNI_PATH (${dirs.length ? dirs.join(':') : 'empty'})`);
}

/**
 * Runs the delegate for `command` with `config` on stdin; resolves its parsed
 * stdout (undefined when it printed nothing, as DEL and CHECK do), rejects
 * with its CNI error (code and msg kept, the delegate named).
 */
export function delegate(type: string, command: string, config: Record<string, unknown>, dirs: string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown> | undefined> {
  const bin = findPlugin(type, dirs);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { env: { ...env, CNI_COMMAND: command, CNI_PATH: dirs.join(':') }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', (e) => reject(new CniError(K.DELEGATE, `IPAM plugin ${type} (${bin}) could not run: ${e.message}`)));
    child.on('close', (status, signal) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = out.trim() ? (JSON.parse(out) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      if (status === 0 && (json !== undefined || !out.trim())) return resolve(json);
      if (json && typeof json.code === 'number')
        return reject(new CniError(json.code, `IPAM plugin ${type}: ${String(json.msg ?? '')}`, typeof json.details === 'string' ? json.details : ''));
      reject(new CniError(K.DELEGATE, `IPAM plugin ${type} ${command} failed (${signal ? `signal ${signal}` : `exit status ${status}`})${out.trim() || err.trim() ? `: ${(out.trim() || err.trim()).slice(0, 500)}` : ''}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(config));
  });
}
