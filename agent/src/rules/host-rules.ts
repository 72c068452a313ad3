/**
 * Host-exposure rules: where a server's code lives, who can rewrite the config, what a
 * container may do to the host, and servers that by design execute commands or reach the whole
 * disk. All of them read the normalized (already redacted) ServerEntry and file stats.
 */
import type { ServerEntry, Severity } from '@mcpwatch/shared';
import { executableBaseName } from '../normalize/index.js';
import { osSpec } from '../platform/os.js';
import { serverApprovals } from './approval-rules.js';
import { serverSubject, type Rule, type RuleContext, type RuleHit } from './rule-types.js';

// ---- command in a temp / shared / download folder ----

/** Folders any user (or any download) can write: [pattern, label, severity]. */
const RISKY_LOCATIONS: ReadonlyArray<[RegExp, string, Severity]> = [
  [/^\/(?:private\/)?(?:var\/)?tmp\//, 'temp folder', 'high'],
  [/^\/dev\/shm\//, 'shared memory folder', 'high'],
  [/^\/(?:private\/)?var\/folders\/[^/]+\/[^/]+\/T\//, 'temp folder', 'high'],
  [/^(?:%TEMP%|%TMP%|\$env:TEMP|\$env:TMP|\$TMPDIR|\$\{TMPDIR\})[\\/]/i, 'temp folder', 'high'],
  [/^[A-Za-z]:[\\/](?:Windows[\\/])?Temp[\\/]/i, 'temp folder', 'high'],
  [/[\\/]AppData[\\/]Local[\\/]Temp[\\/]/i, 'temp folder', 'high'],
  [/^\/Users\/Shared\//, 'world-writable shared folder', 'high'],
  [/^[A-Za-z]:[\\/]Users[\\/]Public[\\/]/i, 'world-writable shared folder', 'high'],
  [/[\\/]Downloads[\\/]/i, 'Downloads folder', 'medium'],
];

function riskyLocation(path: string): [string, Severity] | null {
  for (const [re, label, severity] of RISKY_LOCATIONS) if (re.test(path)) return [label, severity];
  return null;
}

export const commandInTempRule: Rule = {
  id: 'command-in-writable-location',
  severity: 'high',
  title: 'MCP server runs from a temp or shared folder',
  rationale:
    'The server executable or script sits in a temporary, shared or download folder that other users or processes ' +
    'can write, so whoever replaces the file runs code in the MCP client user session on the next launch. Install ' +
    'the server into a folder only its user can write.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const { server } of ctx.views) {
      const candidates: Array<[string, string]> = [];
      if (server.command) candidates.push(['command', server.command]);
      if (server.package?.ecosystem === 'local') candidates.push(['package', server.package.name]);
      for (const [field, path] of candidates) {
        const where = riskyLocation(path);
        if (!where) continue;
        hits.push({
          key: `${server.serverKey}|${field}`,
          subject: serverSubject(server),
          evidence: { field, detail: `${where[0]}: ${path}` },
          severity: where[1],
          title: `${server.name} runs from a ${where[0]}`,
        });
        break;
      }
    }
    return hits;
  },
};

// ---- config writable by other users ----

export const writableConfigRule: Rule = {
  id: 'config-writable-by-others',
  severity: 'high',
  title: 'MCP config file writable by other users',
  rationale:
    'Other local users can edit this MCP configuration and add a server, which the client then launches as its ' +
    'owner: a privilege escalation. Make the file writable by its owner only (chmod 600 or 644).',
  evaluate(ctx: RuleContext): RuleHit[] {
    if (!osSpec(ctx.platform).posixModes) return []; // mode bits mean nothing where the OS has ACLs instead
    const hits: RuleHit[] = [];
    for (const file of ctx.files) {
      if (!file.stat) continue;
      const mode = file.stat.mode;
      const world = (mode & 0o002) !== 0;
      const group = (mode & 0o020) !== 0;
      if (!world && !group) continue;
      hits.push({
        key: `file|${file.path}`,
        subject: { client: file.client, configPath: file.path },
        evidence: { field: 'mode', detail: `mode ${(mode & 0o7777).toString(8).padStart(4, '0')} (${world ? 'world' : 'group'}-writable)` },
        severity: world ? 'high' : 'medium',
        title: `${file.client} config is ${world ? 'world' : 'group'}-writable`,
      });
    }
    return hits;
  },
};

// ---- docker run with host privileges ----

interface ContainerIssue {
  id: string;
  detail: string;
  severity: Severity;
}

const HOST_PATHS = /^(?:\/|\/etc|\/root|\/home|\/Users|\/var\/run\/docker\.sock|\/run\/docker\.sock|\/var\/run|\/proc|\/sys|\/dev|~|\$HOME|\$\{HOME\}|%USERPROFILE%|[A-Za-z]:[\\/]?|\/\/\.\/pipe\/docker_engine|\\\\\.\\pipe\\docker_engine)\/?$/;

/** The words after `docker run` / `podman run` (also behind cmd /c, wsl, sh -c wrappers). */
function containerRunArgs(server: ServerEntry): string[] | null {
  const words = [server.command ?? '', ...server.args].flatMap((w) => (/\s/.test(w) && /\b(?:docker|podman)\b/.test(w) ? w.split(/\s+/) : [w]));
  for (let i = 0; i < words.length; i++) {
    const base = executableBaseName(words[i] as string);
    if (base !== 'docker' && base !== 'podman') continue;
    if (words[i + 1] === 'run') return words.slice(i + 2);
    if (words[i + 1] === 'container' && words[i + 2] === 'run') return words.slice(i + 3);
  }
  return null;
}

/** Privilege issues in `docker run` options (stops at the image). */
export function containerIssues(args: string[]): ContainerIssue[] {
  const out: ContainerIssue[] = [];
  const value = (i: number, a: string): [string, number] => {
    const eq = a.indexOf('=');
    return a.startsWith('--') && eq > 0 ? [a.slice(eq + 1), i] : [args[i + 1] ?? '', i + 1];
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) break; // the image: options end here
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (name === '--privileged') {
      if (!/=false$/.test(a)) out.push({ id: 'privileged', detail: '--privileged', severity: 'critical' });
      continue;
    }
    if (['-e', '--env', '--env-file', '-p', '--publish', '--name', '-w', '--workdir', '-u', '--user', '-l', '--label', '--entrypoint', '-m', '--memory', '--platform', '--pull', '--restart', '-h', '--hostname', '--add-host', '--log-opt', '--label-file', '--cpus', '--gpus', '--tmpfs', '--ulimit', '--dns', '--shm-size'].includes(name)) {
      i = value(i, a)[1];
      continue;
    }
    if (name === '--cap-add') {
      const [v, j] = value(i, a);
      i = j;
      for (const cap of v.toUpperCase().split(',')) {
        const c = cap.replace(/^CAP_/, '');
        if (['ALL', 'SYS_ADMIN', 'SYS_MODULE', 'SYS_PTRACE', 'DAC_READ_SEARCH', 'NET_ADMIN', 'SYS_RAWIO', 'BPF'].includes(c)) {
          out.push({ id: `cap-${c.toLowerCase()}`, detail: `--cap-add ${c}`, severity: c === 'ALL' || c === 'SYS_ADMIN' || c === 'SYS_MODULE' ? 'critical' : 'high' });
        }
      }
      continue;
    }
    if (['--pid', '--network', '--net', '--ipc', '--uts', '--userns', '--cgroupns'].includes(name)) {
      const [v, j] = value(i, a);
      i = j;
      if (v === 'host') out.push({ id: `${name.slice(2)}-host`, detail: `${name} host`, severity: name === '--pid' || name === '--userns' ? 'high' : 'medium' });
      continue;
    }
    if (name === '--security-opt') {
      const [v, j] = value(i, a);
      i = j;
      if (/(?:seccomp|apparmor|systempaths)[=:]unconfined|label[=:]disable|no-new-privileges[=:]false/i.test(v)) out.push({ id: 'security-opt', detail: `--security-opt ${v}`, severity: 'high' });
      continue;
    }
    if (name === '--device') {
      const [v, j] = value(i, a);
      i = j;
      out.push({ id: 'device', detail: `--device ${v}`, severity: 'medium' });
      continue;
    }
    if (name === '-v' || name === '--volume' || name === '--mount') {
      const [v, j] = value(i, a);
      i = j;
      const src = name === '--mount' ? (/(?:^|,)(?:src|source)=([^,]+)/.exec(v)?.[1] ?? '') : v.replace(/^([A-Za-z]:[\\/][^:]*|[^:]*)(?::.*)?$/, '$1');
      if (HOST_PATHS.test(src)) {
        const sock = /docker(?:\.sock|_engine)$/.test(src);
        out.push({ id: sock ? 'docker-socket' : 'host-mount', detail: `${name} ${src}${sock ? ' (Docker socket: root on the host)' : ' (host root or home mounted)'}`, severity: 'critical' });
      }
      continue;
    }
  }
  return out;
}

export const privilegedContainerRule: Rule = {
  id: 'privileged-container',
  severity: 'high',
  title: 'MCP server container has host privileges',
  rationale:
    'The server runs in a container started with privileges that break isolation (--privileged, powerful ' +
    'capabilities, host PID/network namespaces, the Docker socket or the host root mounted), so a compromised server ' +
    'controls the host. Drop the flag, or mount only the folders the server needs, read-only.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const { server } of ctx.views) {
      const args = containerRunArgs(server);
      if (!args) continue;
      for (const issue of containerIssues(args)) {
        hits.push({
          key: `${server.serverKey}|${issue.id}`,
          subject: serverSubject(server),
          evidence: { field: 'args', detail: issue.detail },
          severity: issue.severity,
          title: `${server.name}: container started with ${issue.detail}`,
        });
      }
    }
    return hits;
  },
};

// ---- servers that execute commands or reach the whole disk ----

/** Known exec-capable servers: [name pattern (package name or argument), capability, severity]. */
const EXEC_CAPABLE: ReadonlyArray<[RegExp, string, Severity]> = [
  [/(?:^|\/)(?:mcp-server-commands|desktop-commander|mcp-shell(?:-server)?|server-shell|shell-mcp(?:-server)?|mcp-server-shell|iterm-mcp|cli-mcp-server|terminal-controller|mcp-terminal|mcp-server-terminal|mcp-server-code-runner|code-runner-mcp)$/i, 'runs shell commands', 'high'],
  [/(?:^|\/)(?:win(?:dows)?-cli-mcp-server|server-win-cli|windows-command-line-mcp-server|mcp-powershell|powershell-mcp(?:-server)?)$/i, 'runs shell commands', 'high'],
  [/(?:^|\/)(?:ssh-mcp(?:-server)?|mcp-ssh(?:-server)?|mcp-server-ssh|ssh-mcp-server)$/i, 'runs commands on remote hosts over SSH', 'high'],
  [/(?:^|\/)(?:kubernetes-mcp-server|mcp-server-kubernetes|mcp-k8s(?:-server)?|k8s-mcp-server|kubectl-mcp-server)$/i, 'runs kubectl operations (exec into pods)', 'medium'],
  [/(?:^|\/)(?:server-code-interpreter|mcp-code-interpreter|code-interpreter-mcp|mcp-run-python|mcp-server-python-interpreter)$/i, 'executes code', 'medium'],
];

/** Filesystem server roots that expose the whole disk or all homes. */
const WIDE_ROOTS = /^(?:\/|~|\$HOME|\/Users|\/home|\/root|[A-Za-z]:[\\/]?|[A-Za-z]:\\\\)$/;

function execCapability(server: ServerEntry): [string, Severity, string] | null {
  const names = [server.package?.name ?? '', ...server.args.filter((a) => !a.startsWith('-')).map((a) => a.replace(/@[^/@]*$/, ''))];
  for (const n of names) {
    for (const [re, capability, severity] of EXEC_CAPABLE) if (re.test(n)) return [capability, severity, n];
  }
  if (server.command && executableBaseName(server.command) === 'claude' && server.args[0] === 'mcp' && server.args[1] === 'serve') {
    return ['exposes Claude Code tools (Bash, file edits)', 'high', 'claude mcp serve'];
  }
  if (names.some((n) => /(?:^|\/)server-filesystem$/.test(n))) {
    const roots = server.args.filter((a) => WIDE_ROOTS.test(a));
    if (roots.length > 0) return [`reads and writes the whole disk or all homes (${roots.join(', ')})`, 'high', '@modelcontextprotocol/server-filesystem'];
  }
  return null;
}

export const execCapableServerRule: Rule = {
  id: 'exec-capable-server',
  severity: 'high',
  title: 'MCP server can execute commands or reach the whole disk',
  rationale:
    'This server is known to run shell commands, execute code, exec into hosts or clusters, or read and write the ' +
    'whole file system. Anything that steers the model (a prompt injection in a web page, issue or file) can use it ' +
    'with the user\'s rights. Keep it only where needed, restrict its roots, and never auto-approve its tools.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const { server, raw } of ctx.views) {
      const cap = execCapability(server);
      if (!cap) continue;
      // Command execution whose calls are auto-approved is remote code execution for any prompt injection.
      const autoApproved = raw !== null && serverApprovals(raw.raw).length > 0;
      hits.push({
        key: server.serverKey,
        subject: serverSubject(server),
        evidence: { field: 'package', kind: cap[2], detail: autoApproved ? `${cap[0]}; tools auto-approved` : cap[0] },
        severity: autoApproved ? 'critical' : cap[1],
        title: `${server.name} ${cap[0]}${autoApproved ? ' with auto-approved tools' : ''}`,
      });
    }
    return hits;
  },
};
