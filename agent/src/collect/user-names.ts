/**
 * uid → user name, from /etc/passwd (Linux, and local accounts on macOS), cached. A uid that is
 * not in the file comes back as its number in text (`uid:501`) for the current user's uid the
 * name comes from os.userInfo(). Never throws.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export type UserNameResolver = (uid: number | null) => string | null;

/** Reload the passwd file at most this often when an unknown uid is seen. */
const RELOAD_MIN_MS = 60_000;
const MAX_PASSWD_BYTES = 4 * 1024 * 1024;

export interface UserNameOptions {
  passwdPath?: string;
  /** Reads the passwd file; injectable for tests. */
  readText?: (path: string) => string;
  now?: () => number;
}

/** Builds a cached resolver. */
export function createUserNameResolver(options: UserNameOptions = {}): UserNameResolver {
  const passwdPath = options.passwdPath ?? '/etc/passwd';
  const readText = options.readText ?? ((p: string) => readFileSync(p, 'utf8'));
  const now = options.now ?? Date.now;
  let names = new Map<number, string>();
  let loadedAt = -Infinity;

  const load = (): void => {
    loadedAt = now();
    try {
      const text = readText(passwdPath).slice(0, MAX_PASSWD_BYTES);
      names = parsePasswd(text);
    } catch {
      names = new Map();
    }
  };

  let self: { uid: number; name: string } | null = null;
  try {
    const info = os.userInfo();
    if (info.uid >= 0) self = { uid: info.uid, name: info.username };
  } catch {
    self = null;
  }

  return (uid) => {
    if (uid === null || !Number.isInteger(uid) || uid < 0) return null;
    if (!names.has(uid) && now() - loadedAt >= RELOAD_MIN_MS) load();
    const name = names.get(uid);
    if (name) return name;
    if (self && self.uid === uid) return self.name;
    return `uid:${uid}`;
  };
}

/** Parses passwd(5) text into uid → name (first name wins for a shared uid). */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(':');
    if (parts.length < 3) continue;
    const uid = Number(parts[2]);
    const name = parts[0];
    if (name && Number.isInteger(uid) && !out.has(uid)) out.set(uid, name);
  }
  return out;
}
