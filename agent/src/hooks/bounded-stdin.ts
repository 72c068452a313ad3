/**
 * Reads a hook's input from a stream with a size bound and a time bound, so a client that never
 * closes stdin (or sends megabytes) cannot hang or bloat the hook. Never rejects.
 */
import type { Readable } from 'node:stream';
import { AgentCodes } from '../errors.js';

export const HOOK_INPUT_MAX_BYTES = 1024 * 1024;
export const HOOK_INPUT_TIMEOUT_MS = 3000;

export type StdinRead = { text: string } | { error: { code: string; message: string } };

export function readBoundedInput(stream: Readable & { isTTY?: boolean }, maxBytes = HOOK_INPUT_MAX_BYTES, timeoutMs = HOOK_INPUT_TIMEOUT_MS): Promise<StdinRead> {
  if (stream.isTTY) return Promise.resolve({ error: { code: AgentCodes.hookInputInvalid, message: 'no hook input: stdin is a terminal (a client runs this command with its JSON on stdin)' } });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: StdinRead): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.removeAllListeners('data');
      stream.pause();
      stream.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ error: { code: AgentCodes.hookInputTimeout, message: `no end of hook input within ${timeoutMs} ms` } }), timeoutMs);
    stream.on('data', (c: Buffer | string) => {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      size += b.length;
      if (size > maxBytes) return finish({ error: { code: AgentCodes.hookInputTooLarge, message: `hook input larger than ${maxBytes} bytes` } });
      chunks.push(b);
    });
    stream.on('end', () => finish({ text: Buffer.concat(chunks).toString('utf8') }));
    stream.on('error', (e: Error) => finish({ error: { code: AgentCodes.hookInputInvalid, message: `reading hook input: ${e.message}` } }));
  });
}
