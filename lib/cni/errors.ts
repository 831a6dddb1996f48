// The CNI error: what a plugin prints on stdout (and exits non-zero) when an
// operation fails. Codes 1-99 are the spec's; 100 and up are netplumb's own.

/** The spec's well-known error codes (CNI spec, "Well-known Error Codes"), and netplumb's. */
export const CniCode = {
  /** Incompatible CNI version. */
  INCOMPATIBLE_VERSION: 1,
  /** Unsupported field in network configuration: the message names the key and value. */
  UNSUPPORTED_FIELD: 2,
  /** Container unknown or does not exist: the runtime need not clean up (no DEL). */
  UNKNOWN_CONTAINER: 3,
  /** Invalid necessary environment variables (CNI_COMMAND, CNI_CONTAINERID, ...). */
  INVALID_ENV: 4,
  /** I/O failure, e.g. reading the configuration from stdin. */
  IO: 5,
  /** Failed to decode content (the configuration is not JSON, ...). */
  DECODE: 6,
  /** Invalid network configuration. */
  INVALID_CONFIG: 7,
  /** Try again later: a transient condition (a lock held too long). */
  TRY_AGAIN: 11,
  /** STATUS: the plugin cannot service ADD requests. */
  NOT_AVAILABLE: 50,
  /** STATUS: not available, and existing containers may have limited connectivity. */
  LIMITED_CONNECTIVITY: 51,
  /** netplumb: the kernel refused a change (details has the errno and what). */
  KERNEL: 100,
  /** netplumb: CHECK found the live state differs from prevResult (details lists each difference). */
  CHECK_FAILED: 101,
  /** netplumb: no free address left in the range. */
  NO_ADDRESS: 102,
  /** netplumb: a host port is published already (by this or another network). */
  PORT_CONFLICT: 103,
  /** netplumb: the delegated IPAM plugin failed without a CNI error of its own. */
  DELEGATE: 104,
} as const;

export class CniError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, msg: string, details = '') {
    super(msg);
    this.code = code;
    this.details = details;
  }
  /** The spec's error object. */
  toJSON(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}
