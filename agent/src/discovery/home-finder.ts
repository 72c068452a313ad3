/**
 * Which homes to scan. Privileged (root / elevated Administrator / SYSTEM): every user's home
 * under the platform's users folder (/Users/*, /home/* and /root, C:\Users\* without Public,
 * Default, All Users ...). Otherwise: the current user's home. `--home DIR` gives exactly one.
 * On Windows, the homes inside the current user's RUNNING WSL distributions are added
 * (\\wsl.localhost\<distro>\home\<user>, read with the Linux layout): a stopped distribution is
 * not started by a scan (touching its files would boot it), so its homes are read on a scan while
 * it runs. Distributions are listed by `wsl.exe --list --running --quiet` (5 s timeout); no
 * wsl.exe, a failure or a timeout means none.
 *
 * Each OS's layout (users folder, folders that are not a person, root's home) comes from its
 * OsSpec (platform/); the real OS calls sit in realHomeDeps() and go through hostOs(). Everything
 * else takes its collaborators as arguments so tests run every platform's logic on Linux.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { hostOs, hostPlatform, osSpec } from '../platform/os.js';
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
  /** Windows: names of the current user's running WSL distributions; [] elsewhere. */
  wslDistros?(): Promise<string[]>;
  /** Where WSL distributions' file systems are served (default WSL_ROOT; tests point it at a fixture). */
  wslRoot?: string;
}

/** Where Windows serves WSL distributions' file systems (Windows 10 21H2 and later). */
export const WSL_ROOT = '\\\\wsl.localhost';
const WSL_LIST_TIMEOUT_MS = 5000;
/** A distribution name as wsl.exe prints it: no path separators, not `.` or `..`. */
const WSL_DISTRO_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._ -]{1,64}$/;

/**
 * Distribution names from `wsl.exe --list --quiet` output: UTF-16LE (with or without a BOM), or
 * UTF-8 when WSL_UTF8=1; one name a line. Names that could leave the WSL root are dropped.
 */
export function parseWslList(out: Buffer): string[] {
  const utf16 = out.length >= 2 && (out[1] === 0 || (out[0] === 0xff && out[1] === 0xfe));
  const text = utf16 ? out.toString('utf16le') : out.toString('utf8');
  const names = text
    .replace(/^\ufeff/, '')
    .split(/\r?\n/)
    .map((l) => l.replace(/\0/g, '').trim())
    .filter((l) => WSL_DISTRO_NAME.test(l));
  return [...new Set(names)];
}

/**
 * Homes inside WSL distributions: every folder of <root>\<distro>\home, laid out as on Linux.
 * A distribution whose home folder cannot be listed contributes none.
 */
export async function wslHomes(distros: readonly string[], deps: Pick<HomeDeps, 'listDirectories'>, root: string = WSL_ROOT): Promise<UserHome[]> {
  const out: UserHome[] = [];
  for (const distro of distros) {
    if (!WSL_DISTRO_NAME.test(distro)) continue;
    const homeDir = join(root, distro, 'home');
    for (const user of (await deps.listDirectories(homeDir)).sort()) if (!user.startsWith('.')) out.push({ user, home: join(homeDir, user), platform: 'linux' });
  }
  return out;
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
    wslDistros(): Promise<string[]> {
      if (hostPlatform() !== 'win32') return Promise.resolve([]);
      return new Promise((resolve) => {
        execFile('wsl.exe', ['--list', '--running', '--quiet'], { encoding: 'buffer', timeout: WSL_LIST_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
          resolve(err ? [] : parseWslList(stdout));
        });
      });
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
  const homes = await nativeHomes(platform, deps, usersDir);
  if (platform !== 'win32' || !deps.wslDistros) return homes;
  const wsl = await wslHomes(await deps.wslDistros(), deps, deps.wslRoot ?? WSL_ROOT);
  return dedupeHomes([...homes, ...wsl]);
}

async function nativeHomes(platform: Platform, deps: HomeDeps, usersDir?: string): Promise<UserHome[]> {
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
