// dummy: `ip link add NAME type dummy`. A link that drops what it is sent (a
// stable place for an address). No options, no data: no native file.
import { plainKind } from './kind';

/** The dummy kind. */
export const dummy = plainKind('dummy');
