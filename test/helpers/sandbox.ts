// The test kit is a module of the package: netplumb/testing (lib/testing).
export { inSandbox, requireSandbox, withNamespaces } from '../../lib/testing';
