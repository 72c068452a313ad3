/**
 * Child processes and ports in tests: a free loopback port, a command run to its end with what it
 * printed, a child waited on until it prints a line, and a child stopped the way a service manager
 * stops it (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/** A TCP port free on 127.0.0.1 at the moment of asking (the listener that found it is closed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ProcessRun {
  /** Exit code; null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunProcessOptions {
  /** Written to its stdin; null writes nothing. */
  stdin?: string | null;
  /** Leave stdin open after writing (a client that never closes it). */
  keepStdinOpen?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Runs `command args` to its end and resolves to its exit code and output. */
export function runProcess(command: string, args: readonly string[], opts: RunProcessOptions = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the child may stop reading early
    if (opts.stdin !== undefined && opts.stdin !== null) child.stdin.write(opts.stdin);
    if (!opts.keepStdinOpen) child.stdin.end();
  });
}

/** Stops a child: SIGTERM, SIGKILL after `killAfterMs`; resolves once it has exited. */
export async function stopProcess(child: ChildProcess, killAfterMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves once `child` has printed `needle` (stdout or stderr); rejects on timeout or if it exits first, quoting its last output. */
export function waitForOutput(child: ChildProcess, needle: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${needle}": ${text.slice(-2000)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (text.includes(needle)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!text.includes(needle)) reject(new Error(`exited ${code} before "${needle}": ${text.slice(-2000)}`));
    });
  });
}
