// Type declarations for ./isolation.js (plain CommonJS so it runs uncompiled).

export interface Isolation {
  /** True: a network namespace other than the host's, and /run/netns a private tmpfs. */
  isolated: boolean;
  /** Why, in words (the reason it is not, or what was seen). */
  reason: string;
  /** readlink(/proc/self/ns/net), e.g. "net:[4026532317]". */
  net?: string;
  /** The host's, from PID 1 or the launcher. */
  hostNet?: string;
  /** The ancestor outside our network namespace (the `netplumb sandbox` launcher), if found. */
  launcher?: number;
}

export interface MountInfo {
  id: number;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Decides from /proc (or `proc`), never from the environment. */
export function isolation(proc?: string): Isolation;
export function parseMountInfo(text: string): MountInfo[];
/** readlink of the initial network namespace: "net:[4026531833]". */
export const INIT_NET: string;
