/**
 * Containment shown where a server appears in lists: each (endpoint, server entry) row of a page
 * gets its containment state (`attachContainment`: "which endpoints run this"), each server group
 * its counts of contained entries (`attachContainmentCounts`: the servers page). One query per
 * page, bounded by the page (the states of the page's endpoints / fingerprints).
 * `containment` null (no SQL store): rows get `containment: null`. Store errors reject with the
 * database's error (callers map it to 503).
 */
import type { Containment, ContainmentStatus, ServerContainmentState } from './containment-service.js';

/** `items` with the containment state of their server entry (null when it never had a command). */
export async function attachContainment<T extends { endpointId: string; serverKey: string }>(
  containment: Containment | null,
  items: readonly T[],
): Promise<Array<T & { containment: ServerContainmentState | null }>> {
  const states = containment && items.length > 0 ? await containment.states([...new Set(items.map((i) => i.endpointId))]) : [];
  const by = new Map(states.map((s) => [`${s.endpointId}\u0000${s.serverKey}`, s]));
  return items.map((i) => ({ ...i, containment: by.get(`${i.endpointId}\u0000${i.serverKey}`) ?? null }));
}

/** `groups` with how many of their entries are quarantined / pending / restored / failed (null: none ever contained). */
export async function attachContainmentCounts<T extends { fingerprint: string }>(
  containment: Containment | null,
  groups: readonly T[],
): Promise<Array<T & { containment: Record<ContainmentStatus, number> | null }>> {
  const counts = containment && groups.length > 0 ? await containment.countsByFingerprint(groups.map((g) => g.fingerprint)) : new Map<string, Record<ContainmentStatus, number>>();
  return groups.map((g) => ({ ...g, containment: counts.get(g.fingerprint) ?? null }));
}
