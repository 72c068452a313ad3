/**
 * Resolves the host names of remote MCP servers (from their configured URLs) to IP addresses,
 * with dns.lookup: bounded (at most MAX_HOSTS names per call, a timeout per lookup) and cached
 * (positive and negative results, TTL). Never throws: an unresolvable name maps to no addresses.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export type HostResolver = (hostnames: readonly string[]) => Promise<Map<string, string[]>>;

export type LookupFn = (hostname: string) => Promise<string[]>;

export interface HostResolverOptions {
  lookup?: LookupFn;
  ttlMs?: number;
  timeoutMs?: number;
  maxHosts?: number;
  maxCacheEntries?: number;
  now?: () => number;
}

const defaultLookup: LookupFn = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/** Builds a cached, bounded resolver. */
export function createHostResolver(options: HostResolverOptions = {}): HostResolver {
  const doLookup = options.lookup ?? defaultLookup;
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxHosts = options.maxHosts ?? 64;
  const maxCache = options.maxCacheEntries ?? 256;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; addrs: string[] }>();

  const one = async (host: string): Promise<string[]> => {
    if (isIP(host)) return [host];
    const hit = cache.get(host);
    if (hit && now() - hit.at < ttlMs) return hit.addrs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), timeoutMs);
      timer.unref();
    });
    const addrs = await Promise.race([doLookup(host).catch(() => [] as string[]), timeout]);
    if (timer) clearTimeout(timer);
    cache.delete(host);
    cache.set(host, { at: now(), addrs });
    while (cache.size > maxCache) cache.delete(cache.keys().next().value as string);
    return addrs;
  };

  return async (hostnames) => {
    const unique = [...new Set(hostnames.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')))].slice(0, maxHosts);
    const results = await Promise.all(unique.map(async (h) => [h, await one(h)] as const));
    return new Map(results);
  };
}
