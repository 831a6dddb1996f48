// PortMapping.diagnose(ns, mapping?): the doctor
// (lib/doctor.ts) attached to PortMapping from outside port-mapping.ts, so
// that the class's file only carries the one after-publish call. Loaded by
// lib/index.ts. (No mapping.diagnose(): an instance member would change the
// type port-mapping.ts builds its instances from.)
import { diagnose, type Finding } from './doctor';
import type { Namespace } from './namespace';
import { PortMapping } from './port-mapping';

declare module './port-mapping' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace PortMapping {
    /**
     * What in the namespace's nf_tables ruleset (every family and table, read
     * only) can keep mapped packets from their container: a chain at policy
     * drop, a drop/reject rule, another table's DNAT that runs before ours.
     * With a mapping, about its packets; without, about any published port's.
     */
    function diagnose(ns: Namespace, mapping?: PortMapping): Promise<Finding[]>;
  }
}

Object.defineProperty(PortMapping, 'diagnose', {
  value: (ns: Namespace, mapping?: PortMapping): Promise<Finding[]> => diagnose(ns, mapping),
  writable: true,
  configurable: true,
});
