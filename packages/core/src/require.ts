/**
 * `require` from core's own files, for what core loads only when asked: mailchecker's and tlds'
 * lists (large, or needed by few policies), the optional `@opentelemetry/api`, the rules the
 * package ships. Resolved from this module: its file in the CommonJS build, its URL in the ESM
 * build (a bundler's `require` shim would refuse a dynamic require there), its source file under
 * tsx, each of which finds core's own dependencies.
 */
import { createRequire } from 'node:module';

export const requireFromCore: NodeJS.Require = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
