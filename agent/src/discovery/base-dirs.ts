/**
 * Resolves the catalog's base directories (BaseDir) for one home on one platform.
 *
 * Environment overrides ($XDG_CONFIG_HOME, %APPDATA%, %LOCALAPPDATA%, $CLAUDE_CONFIG_DIR,
 * $CODEX_HOME, ...) describe ONE user's session, so they apply to a home only when that home is
 * the environment's own (env HOME or USERPROFILE equals it) or when the scan covers a single home
 * and the environment names no home at all (an explicit, synthetic environment as tests and
 * `--home` runs pass). With `--home DIR --platform P` and the real process environment, the
 * real user's overrides are therefore ignored and everything derives from DIR, laid out as on P.
 */
import { join } from 'node:path';
import type { BaseDir } from '../catalog/index.js';
import { osSpec } from '../platform/os.js';
import type { ScanContext, UserHome } from '../types.js';

export interface BaseResolver {
  /** Absolute directory for `base`, or null when it does not exist on this platform / is unset. */
  dir(base: BaseDir): string | null;
}

/** Whether ctx.env's path overrides belong to `home`. */
export function envAppliesTo(ctx: Pick<ScanContext, 'env' | 'homes'>, home: string): boolean {
  const envHome = ctx.env.HOME ?? ctx.env.USERPROFILE;
  if (envHome === undefined || envHome === '') return ctx.homes.length === 1;
  // USERPROFILE is a Windows path: drive letters and names compare case-insensitively there.
  return ctx.env.HOME === home || ctx.env.USERPROFILE?.toLowerCase() === home.toLowerCase();
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/** Root of machine-wide locations: systemRoot, else / (POSIX) or the system drive (Windows). */
export function systemRootDir(ctx: Pick<ScanContext, 'platform' | 'systemRoot' | 'env'>): string {
  if (ctx.systemRoot !== '') return ctx.systemRoot;
  return osSpec(ctx.platform).systemRoot(ctx.env);
}

/** The context one home is read in: the scan's, with the home's own platform when it has one (WSL). */
export function homeContext<C extends Pick<ScanContext, 'platform'>>(ctx: C, home: UserHome): C {
  return home.platform === undefined || home.platform === ctx.platform ? ctx : { ...ctx, platform: home.platform };
}

/** Base resolver for one user's home. */
export function homeBases(ctx: Pick<ScanContext, 'platform' | 'env' | 'homes' | 'systemRoot'>, home: UserHome): BaseResolver {
  const useEnv = envAppliesTo(ctx, home.home);
  const env = (name: string): string | undefined => (useEnv ? nonEmpty(ctx.env[name]) : undefined);
  const spec = osSpec(ctx.platform);
  const xdgConfig = env('XDG_CONFIG_HOME') ?? join(home.home, '.config');
  const appData = spec.appData(home.home, env);
  const localAppData = spec.localAppData(home.home, env);
  return {
    dir(base: BaseDir): string | null {
      switch (base) {
        case 'home':
          return home.home;
        case 'appData':
          return appData;
        case 'localAppData':
          return localAppData;
        case 'xdgConfig':
          return xdgConfig;
        case 'system':
          return systemRootDir(ctx);
        case 'project':
        case 'pluginDir':
          return null; // per folder, not per home
        default:
          return env(base.slice('env:'.length)) ?? null;
      }
    },
  };
}
