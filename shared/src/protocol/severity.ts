/**
 * Severities in rising order and their comparisons. Part of the protocol vocabulary: loaded
 * without TypeBox (the schema's Severity union is imported as a type only).
 */
import type { Severity } from '../schemas/inventory.js';

/** Severities in rising order. */
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** Rank of a severity (info=0 .. critical=4); -1 for an unknown string. */
export function severityRank(s: string): number {
  return SEVERITIES.indexOf(s as Severity);
}

/** true when `s` is at or above `threshold`. */
export function atOrAbove(s: Severity, threshold: Severity): boolean {
  return severityRank(s) >= severityRank(threshold);
}

export function isSeverity(s: unknown): s is Severity {
  return typeof s === 'string' && SEVERITIES.includes(s as Severity);
}
