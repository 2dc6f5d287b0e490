// The writer lives in the audit module; this path stays for existing imports.
export { AuditWriter } from './audit/writer.js';
