/**
 * Runs shell commands as root in a private mount namespace (`unshare --mount`) that looks like a
 * systemd host to maintainer scripts (/run/systemd/system exists on a private /run) and whose
 * /etc/mcpwatch is a private directory, while `deb-systemd-invoke` and `systemctl` are recording
 * stubs. Everything else (dpkg database, /usr, /var/lib) is the real machine: tests clean up.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, type RunResult } from './artifacts.js';

export interface SystemdSandbox {
  /** Private /etc/mcpwatch contents. */
  etcDir: string;
  /** Lines "<tool> <args>" recorded by the stubs, in order. */
  calls(): string[];
  sh(script: string): Promise<RunResult>;
  /** Deletes the sandbox and the host's /etc/mcpwatch mount point if this sandbox created it (and it is empty). */
  dispose(): void;
}

const STUBBED = ['deb-systemd-invoke', 'systemctl'];

/** True when this process may create mount namespaces (root, unshare present). */
export async function canUnshare(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  try {
    return (await run('unshare', ['--mount', 'true'])).status === 0;
  } catch {
    return false;
  }
}

/** Creates the sandbox (its /etc/mcpwatch mount point must exist on the host: created if absent). */
export function createSystemdSandbox(): SystemdSandbox {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-systemd-sandbox-'));
  const etcDir = path.join(root, 'etc-mcpwatch');
  const stubs = path.join(root, 'stubs');
  const log = path.join(root, 'calls.log');
  mkdirSync(etcDir);
  mkdirSync(stubs);
  writeFileSync(log, '');
  for (const tool of STUBBED) {
    const stub = path.join(stubs, tool);
    writeFileSync(stub, `#!/bin/sh\necho "${tool} $*" >> "${log}"\nexit 0\n`);
    chmodSync(stub, 0o755);
  }
  const createdMountPoint = !existsSync('/etc/mcpwatch');
  if (createdMountPoint) mkdirSync('/etc/mcpwatch');
  return {
    dispose: () => {
      rmSync(root, { recursive: true, force: true });
      if (createdMountPoint && existsSync('/etc/mcpwatch') && readdirSync('/etc/mcpwatch').length === 0) rmdirSync('/etc/mcpwatch');
    },
    etcDir,
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    sh: (script) => run('unshare', ['--mount', 'sh', '-ec', `
      mount --make-rprivate /
      mount -t tmpfs tmpfs /run
      mkdir -p /run/systemd/system
      mount --bind "${etcDir}" /etc/mcpwatch
      export PATH="${stubs}:$PATH"
      ${script}`], { timeoutMs: 200_000 }),
  };
}
