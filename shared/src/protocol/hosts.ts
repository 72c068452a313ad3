/**
 * Host names that never leave this machine. One answer for both uses: the agent's network rules
 * (a remote server on loopback is not "remote") and the collector-URL check (plain http only to
 * loopback). Pure; takes a host as written, brackets around IPv6 allowed.
 */

/** true for loopback hosts (localhost, *.localhost, 127/8, ::1 in its spellings). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1' || h === '::ffff:127.0.0.1';
}
