// Type declarations for ./show.js (plain CommonJS so it runs uncompiled).
import type { Writer } from './sandbox';

export const SHOW_USAGE: string;
export const FORMATS: readonly string[];
export function runShow(argv: string[], out?: Writer, err?: Writer): Promise<number>;
