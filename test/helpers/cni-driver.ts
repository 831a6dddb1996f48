// A CNI runtime for tests, doing what libcni does with a network
// configuration list: ADD runs the plugins in order, each given the previous
// one's result as prevResult; the final result is cached per (network,
// container, ifname); CHECK gives every plugin that cached result; DEL runs
// them in reverse with it and drops the cache; GC and STATUS run every plugin
// with the list's configuration. runtimeConfig carries only the capabilities a
// plugin declares. Plugins are found by type in `path` and run as processes.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface ConfList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS */
  args?: string;
  /** Runtime values for capabilities, e.g. { portMappings: [...] }. */
  capabilityArgs?: Record<string, unknown>;
}

export interface Exec {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json?: any;
  ms: number;
}

/** Runs one plugin binary with `env` (added to a clean PATH-only environment) and `stdin`. */
export function execPlugin(bin: string, env: Record<string, string>, stdin: string, wrap: string[] = []): Promise<Exec> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const cmd = wrap[0] ?? bin;
    const args = wrap.length ? [...wrap.slice(1), bin] : [];
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.on('close', (status) => {
      let json: any;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, stdout, stderr, json, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
    child.stdin.end(stdin);
  });
}

/** A plugin's CNI error, with what it printed. */
export class CniPluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly exec: Exec,
  ) {
    super(`${plugin} ${command} failed (exit ${exec.status}): ${exec.json?.msg ?? exec.stdout.trim()} ${exec.json?.details ?? ''} ${exec.stderr.trim()}`.trim());
  }
}

export class CniDriver {
  readonly list: ConfList;
  /** CNI_PATH */
  readonly path: string[];
  readonly cacheDir: string;
  /** A command the plugins run under, e.g. ['ip', 'netns', 'exec', 'H'] (the runtime's host namespace). */
  readonly wrap: string[];
  /** More environment for every plugin (the runtime's own, e.g. NETPLUMB_CNI_SOCKET). */
  readonly extraEnv: Record<string, string>;

  constructor(list: ConfList, opts: { path: string[]; cacheDir: string; wrap?: string[]; env?: Record<string, string> }) {
    this.list = list;
    this.path = opts.path;
    this.wrap = opts.wrap ?? [];
    this.extraEnv = opts.env ?? {};
    this.cacheDir = opts.cacheDir;
    fs.mkdirSync(this.cacheDir, { recursive: true });
  }

  /** The executable for `type`, first in path. */
  find(type: string): string {
    for (const d of this.path) {
      const p = path.join(d, type);
      if (fs.existsSync(p)) return p;
    }
    throw new Error(`plugin ${type} not in ${this.path.join(':')}`);
  }

  #cacheFile(a: { containerId: string; ifname: string }): string {
    return path.join(this.cacheDir, `${this.list.name}-${a.containerId}-${a.ifname}.json`);
  }

  /** The cached result of the attachment's ADD, if any. */
  cached(a: { containerId: string; ifname: string }): any | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.#cacheFile(a), 'utf8')).result;
    } catch {
      return undefined;
    }
  }

  /** A plugin's configuration as libcni injects it: name, cniVersion, runtimeConfig for declared capabilities, prevResult. */
  config(p: PluginConf, a: Attachment | undefined, prevResult: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...p, name: this.list.name, cniVersion: this.list.cniVersion, ...extra };
    const rc: Record<string, unknown> = {};
    for (const [k, on] of Object.entries(p.capabilities ?? {})) if (on && a?.capabilityArgs && k in a.capabilityArgs) rc[k] = a.capabilityArgs[k];
    if (Object.keys(rc).length) conf.runtimeConfig = rc;
    if (prevResult !== undefined) conf.prevResult = prevResult;
    return conf;
  }

  env(command: string, a?: Attachment): Record<string, string> {
    return {
      ...this.extraEnv,
      CNI_COMMAND: command,
      CNI_PATH: this.path.join(':'),
      ...(a ? { CNI_CONTAINERID: a.containerId, CNI_NETNS: a.netns, CNI_IFNAME: a.ifname, ...(a.args ? { CNI_ARGS: a.args } : {}) } : {}),
    };
  }

  async #run(p: PluginConf, command: string, a: Attachment | undefined, prev: unknown, extra?: Record<string, unknown>): Promise<Exec> {
    const x = await execPlugin(this.find(p.type), this.env(command, a), JSON.stringify(this.config(p, a, prev, extra)), this.wrap);
    if (x.status !== 0) throw new CniPluginError(p.type, command, x);
    return x;
  }

  /** ADD through the chain; the final result, cached. Per-plugin times in `times`. */
  async add(a: Attachment, times?: { plugin: string; ms: number }[]): Promise<any> {
    let prev: unknown;
    for (const p of this.list.plugins) {
      const x = await this.#run(p, 'ADD', a, prev);
      times?.push({ plugin: p.type, ms: x.ms });
      // A plugin that prints nothing passes the previous result on.
      if (x.json !== undefined) prev = x.json;
    }
    fs.writeFileSync(this.#cacheFile(a), JSON.stringify({ kind: 'cniCacheV1', containerId: a.containerId, ifName: a.ifname, networkName: this.list.name, result: prev }));
    return prev;
  }

  /** CHECK through the chain with the cached result (`skip`: plugin types left out, for a known bug of theirs). */
  async check(a: Attachment, skip: string[] = []): Promise<void> {
    if (this.list.disableCheck) return;
    const prev = this.cached(a);
    if (prev === undefined) throw new Error(`no cached result for ${a.containerId}/${a.ifname}: CHECK needs one`);
    for (const p of this.list.plugins) if (!skip.includes(p.type)) await this.#run(p, 'CHECK', a, prev);
  }

  /** DEL through the chain in reverse, with the cached result when there is one; then the cache entry goes. */
  async del(a: Attachment, times?: { plugin: string; ms: number }[]): Promise<void> {
    const prev = this.cached(a);
    for (const p of [...this.list.plugins].reverse()) {
      const x = await this.#run(p, 'DEL', a, prev);
      times?.push({ plugin: p.type, ms: x.ms });
    }
    fs.rmSync(this.#cacheFile(a), { force: true });
  }

  /** GC: every plugin gets the list's configuration with cni.dev/valid-attachments. */
  async gc(valid: { containerID: string; ifname: string }[]): Promise<void> {
    for (const p of this.list.plugins) await this.#run(p, 'GC', undefined, undefined, { 'cni.dev/valid-attachments': valid });
  }

  async status(): Promise<void> {
    for (const p of this.list.plugins) await this.#run(p, 'STATUS', undefined, undefined);
  }
}
