/**
 * What differs between operating systems, as one interface (STYLE.md habit 10): one implementation
 * per OS in platform/{linux,darwin,win32}/os.ts, selected once by platform/os.ts. Nothing outside
 * platform/ asks which OS it runs on; it asks this interface.
 *
 * Two kinds of members:
 * - Layout (paths, folder names, file-URI spelling, which managed places exist): pure functions of
 *   their arguments, so tests run every OS's layout on Linux by injecting the platform, a home
 *   directory and an environment.
 * - Host operations (privilege, owner-only permissions, directory fsync, host facts): real calls
 *   on THIS machine, used only through `hostOs()`; they never run another OS's commands.
 * No member throws except `restrictToOwner`, whose caller (enrollment) reports the failure.
 */
import type { Platform, UserHome } from '../types.js';
import type { StaticHostFacts } from './source-types.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** One place an MDM or installer writes agent settings to, highest precedence first. */
export type ManagedPlace =
  | { kind: 'plist'; path: string }
  | { kind: 'json'; name: string; path: string }
  | { kind: 'registry'; key: string };

export interface OsSpec {
  readonly name: Platform;

  // ---- layout (pure) ----
  /** The folder that holds users' homes (/home, /Users, C:\Users on the system drive). */
  usersRoot(env: Env): string;
  /** Whether a folder in the users root is not a person's home (`name` lower-cased). */
  isNonUserFolder(name: string): boolean;
  /** Homes a privileged scan covers besides the users root's (root's home); `usersDir` = fixture. */
  systemHomes(usersDir?: string): UserHome[];
  /** Whether login accounts from passwd(5) are scanned too (homes outside the users root). */
  readonly listsPasswdAccounts: boolean;
  /** Root of machine-wide locations: / or the system drive. */
  systemRoot(env: Env): string;
  /** Per-user application data (XDG config, ~/Library/Application Support, %APPDATA%). */
  appData(home: string, env: (name: string) => string | undefined): string;
  /** Per-user local application data (%LOCALAPPDATA%); null where the OS has none. */
  localAppData(home: string, env: (name: string) => string | undefined): string | null;
  /** Where the agent keeps its state by default (privileged: a machine folder; else under `userHome`). */
  defaultStateDir(env: Env, privileged: () => boolean, userHome: string): string;
  /** Managed settings places; `systemRoot` is '' on a real machine, a fixture folder in tests. */
  managedPlaces(systemRoot: string, env: Env): ManagedPlace[];
  /** The local path of a `file://` URI's host and decoded path; null when it is not local. */
  pathFromFileUri(host: string, decodedPath: string): string | null;
  /** Whether POSIX mode bits (group/world writable) mean something for files on this OS. */
  readonly posixModes: boolean;

  // ---- host operations (this machine only, through hostOs()) ----
  /** Whether this process may read every user's home (root, elevated Administrator, SYSTEM). */
  isPrivileged(env: Env): boolean;
  /** Restricts a file or directory to its owner (0600/0700, or SYSTEM + Administrators + self). */
  restrictToOwner(target: string): void;
  /** Whether a directory can be fsync-ed to make a rename in it durable. */
  readonly fsyncsDirectories: boolean;
  /** The machine's static facts; never throws (failed reads are listed in `errors`). */
  hostFacts(): Promise<StaticHostFacts>;
  /** `reg query KEY` stdout ('' when missing); only where the OS has a registry. */
  readonly regQuery?: (key: string) => Promise<string>;
}
