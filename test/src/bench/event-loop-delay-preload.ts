/**
 * Preloaded into bench:collector's collector processes (node --import): the event loop's delay
 * (perf_hooks monitorEventLoopDelay, 1 ms resolution), i.e. how long timers waited because the
 * loop was busy: a transaction, an fsync, a big parse. Off unless MCPW_BENCH_ELD_FILE names a file.
 * The bench creates `${file}.reset` when its timed rounds start (start-up, enrollment and warm-up
 * are not counted) and `${file}.snap` when the rounds and the projection drain are over; the
 * histogram is then written to the file as JSON (ms): { samples, p50, p99, p999, max }.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.MCPW_BENCH_ELD_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let written = false;
  const write = (): void => {
    if (written) return;
    written = true;
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    writeFileSync(file, JSON.stringify({ samples: h.count, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max) }));
  };
  const timer = setInterval(() => {
    if (existsSync(`${file}.reset`)) {
      rmSync(`${file}.reset`, { force: true });
      h.reset();
    }
    if (existsSync(`${file}.snap`)) {
      rmSync(`${file}.snap`, { force: true });
      write();
      h.disable();
      clearInterval(timer);
    }
  }, 100);
  timer.unref();
  process.on('exit', write);
}
