/**
 * A real collector (collector/bin/mcpwatch-collector.js) as a child process on a loopback port with
 * SQLite in a temporary data dir, for the executable and package tests. Resolves once it prints
 * its URL and the CA fingerprint (the only one it prints: agents pin the CA, never the server
 * certificate, which the collector keeps and renews); `events()` reads the query API with the admin token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';
import { REPO_ROOT } from './artifacts.js';

export interface CollectorProcess {
  url: string;
  /** sha256 of the collector's CA certificate, as it prints it for agents to pin (caFingerprint). */
  caFingerprint: string;
  enrollSecret: string;
  events(endpointId: string): Promise<{ type: string; endpointId: string }[]>;
  /** GET a query API path (e.g. `/v1/endpoints/ID`) with the admin token; the parsed JSON body. */
  getJson(pathAndQuery: string): Promise<unknown>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;

/** Starts a collector; rejects with its stderr if it does not come up. */
export function startCollector(dataDir: string, enrollSecret: string): Promise<CollectorProcess> {
  const adminToken = 'installers-test-admin-token-0123456789';
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO_ROOT, 'collector', 'bin', 'mcpwatch-collector.js'), '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, MCPWATCH_ENROLL_SECRET: enrollSecret, MCPWATCH_ADMIN_TOKEN: adminToken, MCPWATCH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`collector did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)); }, START_TIMEOUT_MS);
    timer.unref();
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`collector exited (${code}): ${stderr}`)); });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
      const url = /listening on (https?:\/\/[^\s]+)/.exec(stderr)?.[1];
      const caFingerprint = /CA fingerprint \(sha256, pin this in agents\): ([0-9a-f]{64})/.exec(stderr)?.[1];
      if (!url || !caFingerprint) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url,
        caFingerprint,
        enrollSecret,
        stop,
        getJson: (pathAndQuery) => new Promise((res, rej) => {
          https.get(`${url}${pathAndQuery}`, { headers: { authorization: `Bearer ${adminToken}` }, rejectUnauthorized: false }, (response) => {
            let body = '';
            response.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
              if (response.statusCode !== 200) { rej(new Error(`GET ${pathAndQuery}: ${response.statusCode} ${body}`)); return; }
              res(JSON.parse(body) as unknown);
            });
          }).on('error', rej);
        }),
        events: (endpointId) => new Promise((res, rej) => {
          const request = https.get(`${url}/v1/events?endpoint=${encodeURIComponent(endpointId)}&limit=1000`, {
            headers: { authorization: `Bearer ${adminToken}` },
            rejectUnauthorized: false, // a throwaway loopback collector; the agent itself pins it
          }, (response) => {
            let body = '';
            response.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
              if (response.statusCode !== 200) { rej(new Error(`GET /v1/events: ${response.statusCode} ${body}`)); return; }
              const parsed = JSON.parse(body) as { items?: { type: string; endpointId: string }[]; events?: { type: string; endpointId: string }[] };
              res(parsed.items ?? parsed.events ?? []);
            });
          });
          request.on('error', rej);
        }),
      });
    });
  });
}
