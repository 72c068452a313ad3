/**
 * uid → user name, from /etc/passwd (Linux, and local accounts on macOS), then from the owners of
 * the folders under /Users and /home (macOS directory-service and LDAP accounts that passwd does
 * not list), cached. The current user's uid resolves through os.userInfo(); anything else comes
 * back as its number in text (`uid:501`). Never throws.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';

export type UserNameResolver = (uid: number | null) => string | null;

/** Reload the passwd file at most this often when an unknown uid is seen. */
const RELOAD_MIN_MS = 60_000;
const MAX_PASSWD_BYTES = 4 * 1024 * 1024;
const MAX_HOME_DIRS = 10_000;

export interface UserNameOptions {
  passwdPath?: string;
  /** Folders whose sub-folders are homes named after their owner (default /Users, /home). */
  homeRoots?: string[];
  /** uid owning a folder; injectable for tests. */
  ownerOf?: (dir: string) => number | null;
  /** Sub-folder names; injectable for tests. */
  listDir?: (dir: string) => string[];
  /** Reads the passwd file; injectable for tests. */
  readText?: (path: string) => string;
  now?: () => number;
}

/** Builds a cached resolver. */
export function createUserNameResolver(options: UserNameOptions = {}): UserNameResolver {
  const passwdPath = options.passwdPath ?? '/etc/passwd';
  const readText = options.readText ?? ((p: string) => readFileSync(p, 'utf8'));
  const now = options.now ?? Date.now;
  const homeRoots = options.homeRoots ?? ['/Users', '/home'];
  const listDir = options.listDir ?? ((d: string) => readdirSync(d));
  const ownerOf = options.ownerOf ?? ((d: string) => statSync(d).uid);
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
    for (const root of homeRoots) {
      let entries: string[] = [];
      try {
        entries = listDir(root).slice(0, MAX_HOME_DIRS);
      } catch {
        continue;
      }
      for (const name of entries) {
        try {
          const uid = ownerOf(`${root}/${name}`);
          if (uid !== null && uid > 0 && !names.has(uid)) names.set(uid, name);
        } catch {
          // vanished or unreadable
        }
      }
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
