/**
 * Secret detection and redaction for the agent. Nothing here does I/O. Values go in; kinds,
 * field names and redacted strings come out — never the value itself.
 */
export { classifySecret, detectSecret, isPlaceholder, isReference, isSecretName, shannonEntropy, type SecretHit } from './detect-secret.js';
export {
  classifyHeader,
  redactArgs,
  redactArgsDetailed,
  redactConfigError,
  redactHeaderLine,
  redactKeyName,
  redactText,
  redactTextDetailed,
  redactUrl,
  redactUrlDetailed,
  splitKeyName,
  type RedactedArgs,
  type RedactedText,
  type RedactedUrl,
  type RedactionHit,
} from './redact.js';
export { SECRET_PATTERNS, type SecretPattern } from './secret-patterns.js';
