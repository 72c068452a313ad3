/**
 * What every OS's process, socket and host-fact sources return: rows, the result shape (sources never throw:
 * a failure is `{ ok: false }`) and the bounds on one snapshot. No dependencies, so the generic
 * sources (collect/) and each OS's implementation (platform/<os>/) both import it without a circle.
 */
/** One running process as the collectors see it. `cmd` is the raw command line (may hold secrets). */
export interface ProcessRow {
  pid: number;
  ppid: number | null;
  /** Executable name (comm). */
  name: string;
  /** Full command line, raw. Never leaves the agent without redaction. */
  cmd: string;
  /** Executable path when known. */
  path?: string | null;
  uid: number | null;
  /** User name when the source knows it (systeminformation on Windows). */
  user?: string | null;
  startedAt: string | null;
}

/**
 * A source's answer. `partial`: rows were read, but not all of what this OS's source should give
 * (its first choice failed and a fallback lacking fields answered, or a table could not be read);
 * the inventory shows it as a `collect-partial` error record, so missing fields are never silent.
 */
export type SourceResult<T> = { ok: true; rows: T[]; partial?: Error } | { ok: false; error: Error };

/** Returns a snapshot of running processes. */
export type ProcessSource = () => Promise<SourceResult<ProcessRow>>;

/** Upper bound on processes taken from one snapshot (a runaway host must not blow the agent up). */
export const MAX_PROCESS_ROWS = 20000;

/** One socket as the collectors see it. */
export interface SocketRow {
  protocol: string;
  localAddress: string;
  localPort: number;
  peerAddress: string | null;
  peerPort: number | null;
  /** LISTEN, ESTABLISHED, ... (upper case). */
  state: string;
  pid: number | null;
  processName: string;
}

/** Which processes' sockets are wanted (a source may return more; the collector filters). */
export interface SocketScope {
  pids: ReadonlySet<number>;
  names: ReadonlyMap<number, string>;
}

export type SocketSource = (scope?: SocketScope) => Promise<SourceResult<SocketRow>>;

export const MAX_SOCKET_ROWS = 50000;

/** Host facts that do not change while the agent runs. */
export interface StaticHostFacts {
  hostname: string;
  osName: string | null;
  osRelease: string | null;
  arch: string | null;
  hardwareUuid: string | null;
  serial: string | null;
  /** Facts that could not be read and why (the inventory shows each as an error record). */
  errors?: readonly { code: string; reason: string }[];
}

/** Serial numbers vendors ship as placeholders: not a serial. */
export const NO_SERIAL = /^(-|none|default string|0|to be filled by o\.e\.m\.|not specified)$/i;
