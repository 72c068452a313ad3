/**
 * Structure checks of collector/Dockerfile. The image cannot be built here (this machine has only
 * the docker client, no engine), so the test checks what a build would trip over: every COPY
 * source exists in the build context and is not excluded by .dockerignore, every `--from` stage is
 * defined before use, every npm workspace's package.json is in place before `npm ci` (the lock
 * file names them all), the entrypoint script and the module it loads exist, the final stage runs
 * as a non-root user and exposes the port the CDK stack routes to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTAINER_PORT } from '../src/collector-stack.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dockerfile = readFileSync(join(root, 'collector', 'Dockerfile'), 'utf8');
const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

interface Instr {
  op: string;
  args: string;
}
// Joins continuation lines, drops comments.
const instructions: Instr[] = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const m = /^(\w+)\s+(.*)$/.exec(l)!;
    return { op: m[1]!.toUpperCase(), args: m[2]! };
  });

function ignored(path: string): boolean {
  return ignore.some((pat) => {
    const re = new RegExp(`^${pat.replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*')}(/|$)`);
    return re.test(path);
  });
}

describe('collector/Dockerfile', () => {
  it('copies only paths that exist in the build context and are not ignored', () => {
    const copies = instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    expect(copies.length).toBeGreaterThan(5);
    for (const c of copies) {
      const parts = c.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        expect({ src, exists: existsSync(join(root, src)) }).toEqual({ src, exists: true });
        expect({ src, ignored: ignored(src) }).toEqual({ src, ignored: false });
      }
    }
  });

  it('uses only stages defined before', () => {
    const stages: string[] = [];
    for (const i of instructions) {
      if (i.op === 'FROM') {
        const m = /\bAS\s+(\S+)/i.exec(i.args);
        const base = i.args.split(/\s+/)[0]!;
        if (!base.startsWith('$')) expect(stages.includes(base) || /^[\w./-]+:[\w.-]+$/.test(base)).toBe(true);
        if (m) stages.push(m[1]!);
      }
      const from = /--from=(\S+)/.exec(i.args);
      if (from) expect(stages).toContain(from[1]);
    }
    expect(stages).toEqual(['toolchain', 'build', 'prod-deps']);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:20-/);
  });

  it('puts every npm workspace package.json in place before npm ci', () => {
    const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    const firstCi = dockerfile.indexOf('npm ci');
    for (const w of workspaces) {
      const at = dockerfile.indexOf(`COPY ${w}/package.json ${w}/`);
      expect({ w, copiedBeforeNpmCi: at >= 0 && at < firstCi }).toEqual({ w, copiedBeforeNpmCi: true });
    }
  });

  it('starts the collector binary as a non-root user on the port the stack routes to', () => {
    const last = instructions.slice(instructions.map((i) => i.op).lastIndexOf('FROM'));
    const user = last.filter((i) => i.op === 'USER').pop();
    expect(user?.args).toBe('node');
    const entry = JSON.parse(last.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(entry[0]).toBe('node');
    // node, the collector's node flags (collector/node-flags.json, which npm start and the benches
    // use too), then the launcher.
    const { flags } = JSON.parse(readFileSync(join(root, 'collector', 'node-flags.json'), 'utf8')) as { flags: string[] };
    expect(flags.length).toBeGreaterThan(0);
    expect(entry.slice(1, -1)).toEqual(flags);
    const bin = entry[entry.length - 1]!;
    expect(existsSync(join(root, bin))).toBe(true);
    // The launcher loads ../dist/server-cli.js, compiled from collector/src/server-cli.ts.
    expect(readFileSync(join(root, bin), 'utf8')).toContain('../dist/server-cli.js');
    expect(existsSync(join(root, 'collector', 'src', 'server-cli.ts'))).toBe(true);
    expect(last.find((i) => i.op === 'EXPOSE')?.args).toBe(String(CONTAINER_PORT));
    expect(last.find((i) => i.op === 'CMD')?.args).toContain(`0.0.0.0:${CONTAINER_PORT}`);
  });
});
