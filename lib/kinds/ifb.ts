// ifb: `ip link add NAME type ifb`. The intermediate functional block, a
// target for redirected ingress traffic (tc). No options, no data: no native file.
import { plainKind } from './kind';

/** The ifb kind. */
export const ifb = plainKind('ifb');
