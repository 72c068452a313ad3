import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import uPlot from 'uplot';
import { api, ApiError } from './api';

export type Row = Record<string, any>;

/** Loads `path` (re-loads when it changes); null path: nothing. */
export function useApi<T = any>(path: string | null): { data: T | null; error: ApiError | Error | null; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>('GET', path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

export function Status({ loading, error }: { loading: boolean; error: Error | null }) {
  if (error) return <p class="error" role="alert">{error.message}</p>;
  if (loading) return <p class="loading" aria-live="polite">Loading…</p>;
  return null;
}

export function Severity({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">–</span>;
  return <span class={`sev sev-${value}`}>{value}</span>;
}

export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">–</span>;
  return <time dateTime={iso} title={iso}>{iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>;
}

export interface Column {
  h: string;
  cell: (r: Row) => any;
  class?: string;
}

export function Table({ caption, columns, rows, empty, rowKey }: { caption: string; columns: Column[]; rows: Row[]; empty?: string; rowKey?: (r: Row, i: number) => string }) {
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>{columns.map((c) => <th scope="col" class={c.class}>{c.h}</th>)}</tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} class="muted">{empty ?? 'Nothing here.'}</td>
            </tr>
          ) : (
            rows.map((r, i) => <tr key={rowKey ? rowKey(r, i) : i}>{columns.map((c) => <td class={c.class}>{c.cell(r)}</td>)}</tr>)
          )}
        </tbody>
      </table>
    </div>
  );
}

/** The query string of the current URL as an object. */
export function useQuery(): Record<string, string> {
  const { query } = useLocation();
  return query as Record<string, string>;
}

/** Server-side pagination: the cursor lives in the URL (`cursor`), with a stack for Previous. */
export function Pager({ nextCursor, label }: { nextCursor: string | null | undefined; label: string }) {
  const { path, query, route } = useLocation();
  const stack = (query.prev ? query.prev.split(',') : []) as string[];
  const go = (cursor: string | null, prev: string[]) => {
    const q = new URLSearchParams(query as Record<string, string>);
    if (cursor) q.set('cursor', cursor);
    else q.delete('cursor');
    if (prev.length) q.set('prev', prev.join(','));
    else q.delete('prev');
    const s = q.toString();
    route(`${path}${s ? `?${s}` : ''}`);
  };
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={stack.length === 0 && !query.cursor} onClick={() => go(stack.length ? stack[stack.length - 1] === '-' ? null : stack[stack.length - 1]! : null, stack.slice(0, -1))}>
        ← Previous
      </button>
      <button type="button" disabled={!nextCursor} onClick={() => go(nextCursor!, [...stack, query.cursor ?? '-'])}>
        Next →
      </button>
    </nav>
  );
}

export interface Field {
  name: string;
  label: string;
  options?: string[];
  /** For a select: the value when the URL has none (no empty "any" option then). */
  defaultValue?: string;
}

/** A filter form whose values live in the URL query; submitting resets the page. */
export function Filters({ fields, label }: { fields: Field[]; label: string }) {
  const { path, query, route } = useLocation();
  const onSubmit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const q = new URLSearchParams();
    for (const f of fields) {
      const v = String(form.get(f.name) ?? '').trim();
      if (v) q.set(f.name, v);
    }
    const s = q.toString();
    route(`${path}${s ? `?${s}` : ''}`);
  };
  return (
    <form class="filters" role="search" aria-label={label} onSubmit={onSubmit}>
      {fields.map((f) => (
        <label key={f.name}>
          <span>{f.label}</span>
          {f.options ? (
            <select name={f.name} value={query[f.name] ?? f.defaultValue ?? ''}>
              {f.defaultValue === undefined && <option value="">any</option>}
              {f.options.map((o) => <option value={o}>{o}</option>)}
            </select>
          ) : (
            <input name={f.name} type="search" value={query[f.name] ?? ''} autoComplete="off" />
          )}
        </label>
      ))}
      <button type="submit">Apply filters</button>
      <a class="button-link" href={path}>Clear</a>
    </form>
  );
}

/** Horizontal bars as SVG, described for screen readers (the same numbers are in a table next to it). */
export function BarChart({ title, bars }: { title: string; bars: Array<{ label: string; value: number }> }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rowH = 22;
  return (
    <svg class="bars" role="img" aria-label={`${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}`} viewBox={`0 0 400 ${Math.max(rowH, bars.length * rowH)}`} preserveAspectRatio="xMinYMin meet">
      {bars.map((b, i) => (
        <g key={b.label} transform={`translate(0 ${i * rowH})`}>
          <text x="0" y="15" class="bar-label">{b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label}</text>
          <rect x="180" y="4" height="14" width={Math.max(2, (b.value / max) * 180)} class="bar" />
          <text x={186 + (b.value / max) * 180} y="15" class="bar-value">{b.value}</text>
        </g>
      ))}
    </svg>
  );
}

const SEV_COLORS: Record<string, string> = { critical: '#8b1a1a', high: '#c2410c', medium: '#a16207', low: '#1d4ed8', info: '#475569' };

/** Findings per day and severity as a uPlot line chart (canvas, labelled; numbers also in a table). */
export function TimeChart({ title, points }: { title: string; points: Array<{ day: string; severity: string; count: number }> }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    // Every day of the window (default the last 30), so one busy day does not stretch the axis.
    const last = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const first = Math.min(last - 29 * 86400_000, ...points.map((p) => Date.parse(`${p.day}T00:00:00Z`)));
    const days: string[] = [];
    for (let t = first; t <= last; t += 86400_000) days.push(new Date(t).toISOString().slice(0, 10));
    const sevs = ['critical', 'high', 'medium', 'low', 'info'].filter((s) => points.some((p) => p.severity === s));
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const series = sevs.map((s) => days.map((d) => points.find((p) => p.day === d && p.severity === s)?.count ?? 0));
    const plot = new uPlot(
      {
        width: Math.min(640, ref.current.clientWidth || 640),
        height: 220,
        series: [{}, ...sevs.map((s) => ({ label: s, stroke: SEV_COLORS[s], width: 2 }))],
        axes: [{}, { label: 'findings' }],
        scales: { x: { time: true } },
      },
      [xs, ...series] as uPlot.AlignedData,
      ref.current,
    );
    return () => plot.destroy();
  }, [points]);
  return <div ref={ref} class="timechart" role="img" aria-label={title} />;
}
