/**
 * Which homes to scan. Privileged (root / elevated Administrator / SYSTEM): every user's home
 * under the platform's users folder (/Users/*, /home/* and /root, C:\Users\* without Public,
 * Default, All Users ...). Otherwise: the current user's home. `--home DIR` gives exactly one.
 *
 * Each OS's layout (users folder, folders that are not a person, root's home) comes from its
 * OsSpec (platform/); the real OS calls sit in realHomeDeps() and go through hostOs(). Everything
 * else takes its collaborators as arguments so tests run every platform's logic on Linux.
 */
import { readFile, readdir } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { hostOs, osSpec } from '../platform/os.js';
import type { Platform, UserHome } from '../types.js';

export interface HomeDeps {
  /** Whether this process may read every user's home. */
  isPrivileged(): boolean;
  /** The current user's home. */
  currentUser(): UserHome;
  /** Sub-directory names of a folder (no symlinks / junctions); [] when it cannot be read. */
  listDirectories(dir: string): Promise<string[]>;
  /** Linux: login accounts from /etc/passwd (homes outside /home, e.g. CI runners); [] elsewhere. */
  accountHomes?(): Promise<UserHome[]>;
}

/**
 * Login accounts of a passwd(5) file: uid 0 or 1000..65533, a real shell, a real home.
 * Service accounts (nologin / false shells, uid < 1000) are left out.
 */
export function parsePasswd(text: string): UserHome[] {
  const out: UserHome[] = [];
  for (const line of text.split('\n')) {
    const [user, , uidText, , , home, shell] = line.trim().split(':');
    if (!user || !home || line.startsWith('#')) continue;
    const uid = Number(uidText);
    const loginUid = uid === 0 || (uid >= 1000 && uid < 65534);
    const loginShell = shell !== undefined && shell !== '' && !/(nologin|false|sync|halt|shutdown)$/.test(shell);
    if (loginUid && loginShell && home !== '/' && home !== '/nonexistent') out.push({ user, home });
  }
  return out;
}

/** Real collaborators for the running OS. */
export function realHomeDeps(env: Record<string, string | undefined> = process.env): HomeDeps {
  return {
    isPrivileged(): boolean {
      return hostOs().isPrivileged(env);
    },
    currentUser(): UserHome {
      let user: string;
      try {
        user = userInfo().username;
      } catch {
        user = env.USER ?? env.USERNAME ?? basename(homedir());
      }
      return { user, home: homedir() };
    },
    async accountHomes(): Promise<UserHome[]> {
      if (!hostOs().listsPasswdAccounts) return [];
      try {
        return parsePasswd(await readFile('/etc/passwd', 'utf8'));
      } catch {
        return [];
      }
    },
    async listDirectories(dir: string): Promise<string[]> {
      try {
        const entries = await readdir(dir, { withFileTypes: true });
        return entries.filter((e) => e.isDirectory() && !e.isSymbolicLink()).map((e) => e.name);
      } catch {
        return [];
      }
    },
  };
}

/** The users folder of a platform (C:\Users uses the system drive). */
export function usersRoot(platform: Platform, env: Record<string, string | undefined> = {}): string {
  return osSpec(platform).usersRoot(env);
}

/**
 * Homes to scan on `platform`: every user's when privileged, else the current user's.
 * @param usersDir override of the users folder (tests point it at a fixture).
 */
export async function defaultHomes(platform: Platform, deps: HomeDeps = realHomeDeps(), usersDir?: string): Promise<UserHome[]> {
  const current = deps.currentUser();
  if (!deps.isPrivileged()) return [current];
  const spec = osSpec(platform);
  const root = usersDir ?? spec.usersRoot({});
  const names = (await deps.listDirectories(root)).filter((n) => !n.startsWith('.') && !spec.isNonUserFolder(n.toLowerCase()));
  const homes: UserHome[] = names.sort().map((n) => ({ user: n, home: join(root, n) }));
  homes.push(...spec.systemHomes(usersDir));
  // Accounts whose home is elsewhere (/var/lib/jenkins, /srv/app, /opt/runner ...).
  if (spec.listsPasswdAccounts && !usersDir) for (const h of (await deps.accountHomes?.()) ?? []) if (!homes.some((x) => x.user === h.user)) homes.push(h);
  return homes.length ? dedupeHomes(homes) : [current];
}

function dedupeHomes(homes: UserHome[]): UserHome[] {
  const seen = new Set<string>();
  return homes.filter((h) => (seen.has(h.home) ? false : (seen.add(h.home), true)));
}

/** `--home DIR`: exactly that home; the user is the folder's name. */
export function injectedHome(dir: string): UserHome[] {
  return [{ user: basename(dir) || dir, home: dir }];
}
