/**
 * What a stdio server's command line runs: the package identity behind launchers (npx, bunx,
 * pnpm dlx, yarn dlx, npm exec, uvx, uv tool run, uv run --with, pipx run, docker/podman run,
 * deno run npm:), seen through wrappers (cmd /c, wsl, sh -c, supergateway --stdio,
 * invariant-gateway --exec, mcp-proxy --) and bridges to remote servers (mcp-remote,
 * supergateway --sse, mcp-proxy URL, server-sse-client --url, Docker's MCP gateway).
 *
 * Contract: pure, never throws, bounded recursion (MAX_DEPTH). Input is the command line AS
 * WRITTEN; the caller strips secrets from what it returns (names, versions and URLs may only
 * carry what the user typed there).
 */
import type { PackageIdentity } from '@mcpwatch/shared';
import { executableBaseName, splitCommandLine, splitShellCommands } from './command-line.js';

export interface LaunchIdentity {
  package: PackageIdentity | null;
  /** Wrappers seen through, outermost first (e.g. ['cmd /c', 'mcp-remote']). */
  wrappers: string[];
  /** Remote URL a stdio bridge forwards to, as written. */
  remoteUrl: string | null;
}

const MAX_DEPTH = 6;
const EXACT_SEMVER = /^v?=?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const URL_ARG = /^(?:https?|wss?):\/\/\S+$/i;

/** Identify what `command args` runs. */
export function identifyLaunch(command: string | null, args: readonly string[]): LaunchIdentity {
  const out: LaunchIdentity = { package: null, wrappers: [], remoteUrl: null };
  if (command) peel(command, [...args], out, 0);
  return out;
}

function peel(command: string, args: string[], out: LaunchIdentity, depth: number): void {
  if (depth > MAX_DEPTH) return;
  const base = executableBaseName(command);
  const handler = LAUNCHERS[base] ?? (/^python[0-9.]+$/.test(base) ? runScript(base) : undefined);
  if (handler) {
    handler(args, out, depth, command);
    return;
  }
  if (/[\\/]/.test(command)) out.package = local(command, null);
}

function recurseWords(words: string[], out: LaunchIdentity, depth: number): void {
  if (words.length === 0) return;
  peel(words[0] as string, words.slice(1), out, depth + 1);
}

/**
 * Walk an option list: flags in `valued` take the next word as their value (unless written
 * `--flag=value`). Returns the values seen per flag and the index of the first positional word.
 */
function scanOptions(
  args: readonly string[],
  start: number,
  valued: ReadonlySet<string>,
): { values: Map<string, string[]>; index: number; flags: Set<string> } {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  let i = start;
  while (i < args.length) {
    const a = args[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      const name = a.slice(0, eq);
      values.set(name, [...(values.get(name) ?? []), a.slice(eq + 1)]);
      i++;
      continue;
    }
    if (valued.has(a)) {
      values.set(a, [...(values.get(a) ?? []), args[i + 1] ?? '']);
      i += 2;
      continue;
    }
    flags.add(a);
    i++;
  }
  return { values, index: i, flags };
}

function first(values: Map<string, string[]>, ...names: string[]): string | null {
  for (const n of names) {
    const v = values.get(n);
    if (v && v.length > 0) return v[0] as string;
  }
  return null;
}

function local(path: string, runner: string | null): PackageIdentity {
  return { ecosystem: 'local', name: path, version: null, pinned: false, runner };
}

/** `@scope/name@1.2.3`, `name@^1`, `name` → npm identity. */
export function parseNpmSpec(spec: string, runner: string): PackageIdentity {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  const hasVersion = at > 0 && !/^(?:git\+|https?:|github:|file:)/.test(spec);
  const name = hasVersion ? spec.slice(0, at) : spec;
  const version = hasVersion ? spec.slice(at + 1) : null;
  return { ecosystem: 'npm', name, version: version || null, pinned: version !== null && EXACT_SEMVER.test(version), runner };
}

/** `name==1.2.3`, `name@1.2.3`, `name[extra]>=1`, `git+https://...@rev` → PyPI identity. */
export function parsePypiSpec(spec: string, runner: string): PackageIdentity {
  // PEP 508 direct reference: `name[extra] @ git+https://…` or `name @ https://…/x.whl`.
  const direct = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*@\s*([A-Za-z][\w+.-]*:\/\/\S+)$/.exec(spec.trim());
  if (direct) {
    const url = parseVcsUrl(direct[2] as string);
    return { ecosystem: 'pypi', name: direct[1] as string, version: url?.rev ?? null, pinned: url?.pinned ?? false, runner };
  }
  const vcs = parseVcsUrl(spec.trim());
  if (vcs) return { ecosystem: 'pypi', name: vcs.name, version: vcs.rev, pinned: vcs.pinned, runner };
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:(==|===|@|>=|<=|~=|!=|>|<)\s*(.+))?$/.exec(spec.trim());
  if (!m) return { ecosystem: 'pypi', name: spec, version: null, pinned: false, runner };
  const op = m[2] ?? null;
  const ver = m[3]?.trim() ?? null;
  const exact = (op === '==' || op === '===' || op === '@') && ver !== null && /^\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)*$/.test(ver);
  return { ecosystem: 'pypi', name: m[1] as string, version: ver === null ? null : op === '@' || op === '==' ? ver : `${op}${ver}`, pinned: exact, runner };
}

/**
 * `git+https://user:token@host/org/repo@rev#egg=x` → name `git+https://host/org/repo`, rev `rev`.
 * Userinfo never becomes part of the name; the revision is the last `@` in the path (pip's VCS
 * syntax). Null when the spec is not a `<vcs>+<scheme>://` URL.
 */
function parseVcsUrl(spec: string): { name: string; rev: string | null; pinned: boolean } | null {
  const m = /^((?:git|hg|svn|bzr)\+[A-Za-z][\w+.-]*:\/\/)([^/?#]*)([^?#]*)/.exec(spec);
  if (!m) return null;
  const authority = m[2] as string;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  const path = m[3] as string;
  const at = path.lastIndexOf('@');
  const rev = at >= 0 && at < path.length - 1 ? path.slice(at + 1) : null;
  const name = `${m[1]}${host}${at >= 0 ? path.slice(0, at) : path}`;
  return { name, rev, pinned: rev !== null && /^[0-9a-f]{40}$/.test(rev) };
}

/** `registry:5000/org/name:tag@sha256:...` → OCI identity (pinned only with a digest). */
export function parseImageRef(ref: string, runner: string): PackageIdentity {
  const [nameTag, digest] = ref.split('@', 2) as [string, string | undefined];
  const slash = nameTag.lastIndexOf('/');
  const colon = nameTag.lastIndexOf(':');
  const hasTag = colon > slash;
  return {
    ecosystem: 'oci',
    name: hasTag ? nameTag.slice(0, colon) : nameTag,
    version: hasTag ? nameTag.slice(colon + 1) : null,
    pinned: digest !== undefined && /^sha256:[0-9a-f]{64}$/i.test(digest),
    digest: digest ?? null,
    runner,
  };
}

// ---- bridges and gateways, looked up by the package a launcher runs ----

interface BridgeSpec {
  wrapper: string;
  /** Where the remote URL sits: a flag, or the first URL-looking positional. */
  urlFlags?: string[];
  /** Flags whose value is a whole inner command line (supergateway --stdio "npx ..."). */
  innerCommandFlags?: string[];
  /** A separator after which the inner command follows (invariant-gateway --exec, mcp-proxy --). */
  innerAfter?: string[];
}

const BRIDGES: Record<string, BridgeSpec> = {
  'mcp-remote': { wrapper: 'mcp-remote' },
  'supergateway': { wrapper: 'supergateway', urlFlags: ['--sse', '--streamableHttp', '--streamable-http'], innerCommandFlags: ['--stdio'] },
  '@modelcontextprotocol/server-sse-client': { wrapper: 'server-sse-client', urlFlags: ['--url'] },
  'mcp-proxy': { wrapper: 'mcp-proxy', innerAfter: ['--'] },
  'invariant-gateway': { wrapper: 'invariant-gateway', innerAfter: ['--exec'] },
  '@jetbrains/mcp-proxy': { wrapper: 'jetbrains-mcp-proxy' },
  '@smithery/cli': { wrapper: 'smithery' },
  'mcp-remote-client': { wrapper: 'mcp-remote' },
  '@pyroprompts/mcp-stdio-to-streamable-http-adapter': { wrapper: 'mcp-stdio-to-streamable-http-adapter' },
};

/** Apply a bridge/gateway spec to the args that follow the package. */
function seeThrough(pkg: PackageIdentity, rest: string[], out: LaunchIdentity, depth: number): void {
  const spec = BRIDGES[pkg.name];
  out.package = pkg;
  if (!spec) return;
  out.wrappers.push(spec.wrapper);
  for (const sep of spec.innerAfter ?? []) {
    const at = rest.indexOf(sep);
    if (at >= 0 && at + 1 < rest.length) {
      recurseWords(rest.slice(at + 1), out, depth);
      return;
    }
  }
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    for (const flag of spec.innerCommandFlags ?? []) {
      const value = a === flag ? rest[i + 1] : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined;
      if (value !== undefined) {
        recurseWords(splitCommandLine(value), out, depth);
        return;
      }
    }
    for (const flag of spec.urlFlags ?? []) {
      const value = a === flag ? rest[i + 1] : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined;
      if (value !== undefined && URL_ARG.test(value)) {
        out.remoteUrl = value;
        return;
      }
    }
  }
  const url = rest.find((a) => URL_ARG.test(a));
  if (url && spec.wrapper !== 'smithery') out.remoteUrl = url;
}

// ---- launchers ----

type Launcher = (args: string[], out: LaunchIdentity, depth: number, command: string) => void;

const NPX_VALUED = new Set(['-p', '--package', '--registry', '--cache', '--userconfig', '-c', '--call', '--node-options', '-w', '--workspace', '--prefix', '--loglevel']);

function runNpm(runner: string, args: string[], start: number, out: LaunchIdentity, depth: number): void {
  const { values, index } = scanOptions(args, start, NPX_VALUED);
  const pkgFlag = first(values, '-p', '--package');
  const positional = args[index];
  const spec = pkgFlag ?? positional;
  if (!spec) return;
  const rest = pkgFlag ? args.slice(index) : args.slice(index + 1);
  if (/^(?:\.{0,2}\/|[A-Za-z]:\\|file:)/.test(spec)) {
    out.package = local(spec, runner);
    return;
  }
  seeThrough(parseNpmSpec(spec, runner), rest, out, depth);
}

const UV_VALUED = new Set([
  '--from', '--with', '--with-editable', '--with-requirements', '--python', '-p', '--index-url', '-i', '--extra-index-url',
  '--index', '--default-index', '--directory', '--project', '--cache-dir', '--config-file', '--constraints', '--overrides',
  '--find-links', '-f', '--index-strategy', '--keyring-provider', '--exclude-newer', '--resolution', '--prerelease',
  '--env-file', '--color', '--python-preference', '--spec',
]);

function runPypiTool(runner: string, args: string[], start: number, out: LaunchIdentity, depth: number): void {
  const { values, index } = scanOptions(args, start, UV_VALUED);
  const from = first(values, '--from', '--spec');
  const positional = args[index];
  const spec = from ?? positional;
  if (!spec) return;
  seeThrough(parsePypiSpec(spec, runner), args.slice(index + 1), out, depth);
}

function runUv(args: string[], out: LaunchIdentity, depth: number): void {
  const { values, index } = scanOptions(args, 0, UV_VALUED);
  const sub = args[index];
  if (sub === 'tool' && args[index + 1] === 'run') return runPypiTool('uv', args, index + 2, out, depth);
  if (sub === 'tool' && args[index + 1] === 'uvx') return runPypiTool('uv', args, index + 2, out, depth);
  if (sub !== 'run') return;
  const run = scanOptions(args, index + 1, UV_VALUED);
  const withPkg = first(run.values, '--with') ?? first(values, '--with');
  const target = args[run.index];
  if (withPkg) {
    seeThrough(parsePypiSpec(withPkg, 'uv'), args.slice(run.index + 1), out, depth);
    return;
  }
  if (!target) return;
  const dir = first(values, '--directory', '--project') ?? first(run.values, '--directory', '--project');
  // `uv run python x.py` / `uv run x.py` / `uv run my-server` inside a project directory.
  if (/^python[0-9.]*$/.test(executableBaseName(target))) return recurseWords(args.slice(run.index), out, depth);
  out.package = local(dir && !/[\\/]/.test(target) ? `${dir}:${target}` : target, 'uv');
}

const DOCKER_VALUED = new Set([
  '-e', '--env', '--env-file', '-v', '--volume', '--mount', '-p', '--publish', '--name', '--network', '--net', '-w',
  '--workdir', '-u', '--user', '--entrypoint', '-l', '--label', '--label-file', '--cap-add', '--cap-drop', '--pid', '--ipc',
  '-h', '--hostname', '--add-host', '--device', '-m', '--memory', '--memory-swap', '--cpus', '--cpu-shares', '-c',
  '--platform', '--pull', '--restart', '--log-driver', '--log-opt', '--security-opt', '--tmpfs', '--ulimit', '--dns',
  '--dns-search', '--dns-option', '--gpus', '--runtime', '--shm-size', '--stop-signal', '--stop-timeout', '--uts',
  '--userns', '--cgroupns', '--cgroup-parent', '--health-cmd', '--health-interval', '--health-retries', '--health-timeout',
  '--network-alias', '--ip', '--ip6', '--mac-address', '--group-add', '--expose', '--link', '--volumes-from', '-a',
  '--attach', '--cidfile', '--domainname', '--sysctl', '--storage-opt', '--isolation', '--secret', '--annotation',
]);

function runContainer(runner: string): Launcher {
  return (args, out) => {
    const g = scanOptions(args, 0, new Set(['--context', '-c', '--host', '-H', '--config', '--log-level', '-l']));
    const sub = args[g.index];
    if (sub === 'mcp' && args[g.index + 1] === 'gateway') {
      out.wrappers.push(`${runner} mcp gateway`);
      return;
    }
    const start = sub === 'run' ? g.index + 1 : sub === 'container' && args[g.index + 1] === 'run' ? g.index + 2 : -1;
    if (start < 0) return;
    const { index } = scanOptions(args, start, DOCKER_VALUED);
    const image = args[index];
    if (image) out.package = parseImageRef(image, runner);
  };
}

const SCRIPT_VALUED = new Set(['-r', '--require', '--import', '--loader', '--env-file', '-W', '-X', '--config', '-c', '--conditions', '-C']);

function runScript(runner: string): Launcher {
  return (args, out, depth) => {
    const { index } = scanOptions(args, 0, SCRIPT_VALUED);
    if (/^python/.test(runner) || runner === 'py') {
      const mIdx = args.indexOf('-m');
      if (mIdx >= 0 && mIdx < index + 1 && args[mIdx + 1]) {
        out.package = local(args[mIdx + 1] as string, runner);
        return;
      }
    }
    let target = args[index];
    if (!target) return;
    if (runner === 'deno' && (target === 'run' || target === 'x')) target = args[scanOptions(args, index + 1, new Set(['--config', '-c', '--import-map', '--env-file'])).index];
    if (!target) return;
    if (runner === 'bun' && target === 'x') return runNpm('bun', args, index + 1, out, depth);
    if (runner === 'bun' && target === 'run') target = args[index + 1];
    if (!target) return;
    if (target.startsWith('npm:')) {
      seeThrough(parseNpmSpec(target.slice(4), runner), args.slice(index + 1), out, depth);
      return;
    }
    out.package = local(target, runner);
  };
}

function runShell(flag: RegExp): Launcher {
  return (args, out, depth, command) => {
    const at = args.findIndex((a) => flag.test(a));
    if (at < 0 || at + 1 >= args.length) {
      if (args[0] && !args[0].startsWith('-')) out.package = local(args[0], executableBaseName(command));
      return;
    }
    out.wrappers.push(`${executableBaseName(command)} ${args[at]}`);
    const rest = args.slice(at + 1);
    const words = rest.length === 1 ? splitShellCommands(rest[0] as string) : [rest];
    const last = words.filter((w) => !['cd', 'source', '.', 'export', 'set'].includes(w[0] as string)).pop();
    if (last) recurseWords(last, out, depth);
  };
}

const runCmd: Launcher = (args, out, depth) => {
  const at = args.findIndex((a) => /^\/[ck]$/i.test(a));
  if (at < 0) return;
  out.wrappers.push('cmd /c');
  const rest = args.slice(at + 1);
  recurseWords(rest.length === 1 ? splitCommandLine(rest[0] as string) : rest, out, depth);
};

const WSL_VALUED = new Set(['-d', '--distribution', '-u', '--user', '--cd', '--shell-type', '--distribution-id']);
const runWsl: Launcher = (args, out, depth) => {
  out.wrappers.push('wsl');
  const { index } = scanOptions(args, 0, WSL_VALUED);
  const ex = args.findIndex((a) => a === '-e' || a === '--exec');
  const rest = ex >= 0 && ex < index ? args.slice(ex + 1) : args.slice(index);
  recurseWords(rest, out, depth);
};

const LAUNCHERS: Record<string, Launcher> = {
  npx: (args, out, depth) => runNpm('npx', args, 0, out, depth),
  bunx: (args, out, depth) => runNpm('bunx', args, 0, out, depth),
  pnpx: (args, out, depth) => runNpm('pnpm', args, 0, out, depth),
  npm: (args, out, depth) => {
    const g = scanOptions(args, 0, NPX_VALUED);
    if (['exec', 'x', 'exe'].includes(args[g.index] ?? '')) runNpm('npm', args, g.index + 1, out, depth);
  },
  pnpm: (args, out, depth) => {
    const g = scanOptions(args, 0, NPX_VALUED);
    if (args[g.index] === 'dlx' || args[g.index] === 'exec') {
      const pkgFlag = first(g.values, '--package');
      if (pkgFlag) seeThrough(parseNpmSpec(pkgFlag, 'pnpm'), args.slice(g.index + 1), out, depth);
      else runNpm('pnpm', args, g.index + 1, out, depth);
    }
  },
  yarn: (args, out, depth) => {
    const g = scanOptions(args, 0, NPX_VALUED);
    if (args[g.index] === 'dlx') runNpm('yarn', args, g.index + 1, out, depth);
  },
  uvx: (args, out, depth) => runPypiTool('uvx', args, 0, out, depth),
  uv: runUv,
  pipx: (args, out, depth) => {
    const g = scanOptions(args, 0, UV_VALUED);
    if (args[g.index] === 'run') runPypiTool('pipx', args, g.index + 1, out, depth);
  },
  docker: runContainer('docker'),
  podman: runContainer('podman'),
  node: runScript('node'),
  nodejs: runScript('node'),
  deno: runScript('deno'),
  bun: runScript('bun'),
  tsx: runScript('tsx'),
  'ts-node': runScript('ts-node'),
  python: runScript('python'),
  python3: runScript('python3'),
  py: runScript('py'),
  cmd: runCmd,
  wsl: runWsl,
  sh: runShell(/^-c$/),
  bash: runShell(/^-c$/),
  zsh: runShell(/^-c$/),
  powershell: runShell(/^-(?:c|command)$/i),
  pwsh: runShell(/^-(?:c|command)$/i),
};
