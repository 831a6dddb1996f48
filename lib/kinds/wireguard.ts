// wireguard: `ip link add NAME type wireguard`. The link only: keys and peers
// are set over generic netlink (`wg set`), which netplumb does not speak. No
// options, no data: no native file.
import { plainKind } from './kind';

/** The wireguard kind (the link only). */
export const wireguard = plainKind('wireguard');
