import type { MacvlanMode } from './constants';
import { ErrorCodes as C, NetplumbError } from './errors';
import { createOfKind, type Link, type LinkRef } from './link';
import { macvlan } from './kinds/macvlan';
import type { Namespace } from './namespace';
import * as v from './validate';

export type { MacvlanMode };

/** Options of `Macvlan.create`: `ip link add NAME link DEV type macvlan mode MODE`. */
export interface MacvlanOptions {
  /** The lower device the macvlan sits on: a Link, or a name or ifindex in `namespace`. */
  parent: LinkRef;
  /** Namespace of the parent. Default: the parent Link's, else the process's own. */
  namespace?: Namespace;
  /** Create the device directly in this namespace (`ip link add ... netns NS`). Default: the parent's. */
  in?: Namespace;
  /**
   * 'bridge' (the default, as Docker's macvlan driver): macvlans on one parent
   * reach each other directly. 'private': they cannot. 'vepa': through the
   * external switch. 'passthru': one macvlan takes over the parent. 'source':
   * only frames from allowed source MACs.
   */
  mode?: MacvlanMode;
  mtu?: number;
  mac?: string;
  /** Bring it up. Default false. */
  up?: boolean;
}

const MACVLAN_KEYS: v.Keys<MacvlanOptions> = { parent: true, namespace: true, in: true, mode: true, mtu: true, mac: true, up: true };

/**
 * macvlan: a device with its own MAC address on top of an existing one
 * (`ip link add NAME link PARENT type macvlan mode bridge`), Docker's macvlan
 * network driver. Containers get addresses on the parent's own network.
 * The same as `Link.create(name, { kind: 'macvlan', ...opts })` (lib/kinds/macvlan.ts).
 */
export class Macvlan {
  private constructor() {}

  /** Creates a macvlan on `opts.parent`; resolves to the new link (in `opts.in` when given). */
  static async create(name: string, opts: MacvlanOptions): Promise<Link> {
    v.ifname(name);
    if (typeof opts !== 'object' || opts === null) throw new NetplumbError(C.INVALID_ARGUMENT, 'macvlan options must be an object', { value: opts, argument: 'options' });
    v.known(opts, MACVLAN_KEYS, 'Macvlan.create');
    return createOfKind(name, macvlan, { ...opts });
  }
}
