/*
 * mcpwatch-winsnap: the Windows process and socket snapshot of the mcpwatch agent, straight from
 * Win32 (no PowerShell, no WMI, nothing beyond the Windows SDK headers mingw-w64 ships). Built with
 * x86_64-w64-mingw32-gcc by the packaging scripts and carried inside the win-x64 single executable.
 *
 *   mcpwatch-winsnap.exe processes
 *       every process of the Toolhelp snapshot: pid, parent pid, image name, and, per process, the
 *       full command line (NtQueryInformationProcess class 60, ProcessCommandLineInformation; else
 *       the PEB's RTL_USER_PROCESS_PARAMETERS read with ReadProcessMemory), the image path
 *       (QueryFullProcessImageNameW), the user (token's TokenUser, LookupAccountSidW as
 *       DOMAIN\user, else the SID string) and the start time (GetProcessTimes).
 *   mcpwatch-winsnap.exe sockets
 *       the TCP (all states) and UDP tables with owning pid, IPv4 and IPv6
 *       (GetExtendedTcpTable TCP_TABLE_OWNER_PID_ALL, GetExtendedUdpTable UDP_TABLE_OWNER_PID).
 *
 * Output: UTF-8, one record per line ending in LF, fields separated by TAB. Text fields escape the
 * backslash as \\ and every byte below 0x20 and 0x7f as \xHH, so a field never holds a TAB or a
 * line end. A per-process field is "=" followed by the value, or "!" followed by why it could not
 * be read: denied (access denied: a protected or another user's elevated process), gone (the
 * process exited meanwhile), none (the process has no such thing: the idle process), budget (the
 * output budget is spent), or errN (Win32 error N).
 *
 *   MCPWATCH-WINSNAP<TAB>1<TAB>processes|sockets
 *   P<TAB>pid<TAB>ppid<TAB>image name<TAB>cmd<TAB>user<TAB>started (ISO 8601 UTC)<TAB>path
 *   T<TAB>4|6<TAB>local address<TAB>local port<TAB>remote address<TAB>remote port<TAB>MIB state<TAB>pid
 *   U<TAB>4|6<TAB>local address<TAB>local port<TAB>pid
 *   E<TAB>what<TAB>Win32 error          (a whole table or the snapshot could not be read)
 *   END<TAB>records written<TAB>records seen
 *
 * Bounds: at most MAX_PROCESS_ROWS processes and MAX_SOCKET_ROWS sockets are written (END says how
 * many were seen); a command line is at most 32767 UTF-16 units (the UNICODE_STRING limit); once
 * OUTPUT_BUDGET bytes are written, further command lines and paths are "!budget". Every length read
 * from another process or from an API is checked against the buffer it lands in.
 * Exit status: 0 output complete (E lines may be present), 2 usage, 3 nothing could be read,
 * 4 stdout could not be written.
 */
#include <winsock2.h>
#include <ws2ipdef.h>
#include <windows.h>
#include <tlhelp32.h>
#include <iphlpapi.h>
#include <sddl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROCESS_ROWS 20000
#define MAX_SOCKET_ROWS 50000
#define OUTPUT_BUDGET (24u * 1024u * 1024u)
#define MAX_WIDE 32767                        /* UTF-16 units in a UNICODE_STRING */
#define MAX_TABLE_BYTES (64u * 1024u * 1024u) /* largest socket table accepted */
#define USER_CACHE 64

/* ---- output ---------------------------------------------------------------------------------- */

static HANDLE out_handle;
static char out_buf[64 * 1024];
static size_t out_len;
static size_t out_total;

static void out_flush(void) {
  size_t done = 0;
  while (done < out_len) {
    DWORD wrote = 0;
    if (!WriteFile(out_handle, out_buf + done, (DWORD)(out_len - done), &wrote, NULL) || wrote == 0) ExitProcess(4);
    done += wrote;
  }
  out_len = 0;
}

static void out_bytes(const char *s, size_t n) {
  out_total += n;
  while (n > 0) {
    size_t room = sizeof out_buf - out_len;
    size_t take = n < room ? n : room;
    memcpy(out_buf + out_len, s, take);
    out_len += take;
    s += take;
    n -= take;
    if (out_len == sizeof out_buf) out_flush();
  }
}

static void out_str(const char *s) { out_bytes(s, strlen(s)); }

static void out_uint(unsigned long long v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%llu", v);
  if (n > 0) out_bytes(tmp, (size_t)n);
}

/* Bytes `s[0..n)` with the backslash and control bytes escaped (see the header). */
static void out_escaped(const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != 0x7f && c != '\\') continue;
    out_bytes(s + start, i - start);
    if (c == '\\') out_bytes("\\\\", 2);
    else {
      char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
      out_bytes(esc, 4);
    }
    start = i + 1;
  }
  out_bytes(s + start, n - start);
}

/* Escaped length of `s[0..n)` (to test it against the budget before writing it). */
static size_t escaped_len(const char *s, size_t n) {
  size_t len = n;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\') len += 1;
    else if (c < 0x20 || c == 0x7f) len += 3;
  }
  return len;
}

/* UTF-16 -> UTF-8 into a static buffer; returns the byte count (0 for empty or unconvertible). */
static char utf8_buf[MAX_WIDE * 3 + 16];
static size_t to_utf8(const WCHAR *w, size_t units) {
  if (units == 0) return 0;
  if (units > MAX_WIDE) units = MAX_WIDE;
  int n = WideCharToMultiByte(CP_UTF8, 0, w, (int)units, utf8_buf, (int)sizeof utf8_buf, NULL, NULL);
  return n > 0 ? (size_t)n : 0;
}

static void out_tab(void) { out_bytes("\t", 1); }

/* A field that failed: "!" + reason for a Win32 error. */
static void out_failure(DWORD error) {
  if (error == ERROR_ACCESS_DENIED || error == ERROR_PRIVILEGE_NOT_HELD) out_str("!denied");
  else if (error == ERROR_INVALID_PARAMETER) out_str("!gone");
  else {
    out_str("!err");
    out_uint(error);
  }
}

/* A text field from UTF-16: "=" + escaped value, or "!budget" when the budget is spent. */
static void out_wide_field(const WCHAR *w, size_t units) {
  size_t n = to_utf8(w, units);
  if (out_total + escaped_len(utf8_buf, n) > OUTPUT_BUDGET) {
    out_str("!budget");
    return;
  }
  out_bytes("=", 1);
  out_escaped(utf8_buf, n);
}

/* ---- ntdll (looked up at run time: no import library needed) ------------------------------- */

typedef LONG(NTAPI *NtQueryInformationProcessFn)(HANDLE, ULONG, PVOID, ULONG, PULONG);
typedef ULONG(NTAPI *RtlNtStatusToDosErrorFn)(LONG);
static NtQueryInformationProcessFn nt_query;
static RtlNtStatusToDosErrorFn nt_to_dos;

#define PROCESS_BASIC_INFORMATION_CLASS 0
#define PROCESS_COMMAND_LINE_INFORMATION_CLASS 60

typedef struct {
  LONG ExitStatus;
  PVOID PebBaseAddress;
  ULONG_PTR AffinityMask;
  LONG BasePriority;
  ULONG_PTR UniqueProcessId;
  ULONG_PTR InheritedFromUniqueProcessId;
} BasicInformation;

typedef struct {
  USHORT Length;
  USHORT MaximumLength;
  PWSTR Buffer;
} NtText;

static DWORD status_error(LONG status) { return nt_to_dos ? nt_to_dos(status) : ERROR_GEN_FAILURE; }

/* ---- per-process fields ---------------------------------------------------------------------- */

/* Room for a UNICODE_STRING header and its longest text (class 60 returns both in one buffer). */
static ULONG_PTR query_buf[(sizeof(NtText) + MAX_WIDE * 2 + 64) / sizeof(ULONG_PTR)];
static WCHAR wide_buf[MAX_WIDE + 1];

/* The command line through class 60 (Windows 8.1+, needs only limited query access). */
static DWORD command_line_class60(HANDLE h, const WCHAR **text, size_t *units) {
  ULONG got = 0;
  LONG status = nt_query(h, PROCESS_COMMAND_LINE_INFORMATION_CLASS, query_buf, (ULONG)sizeof query_buf, &got);
  if (status < 0) return status_error(status) ? status_error(status) : ERROR_GEN_FAILURE;
  if (got < sizeof(NtText)) return ERROR_INVALID_DATA;
  const NtText *s = (const NtText *)query_buf;
  const BYTE *lo = (const BYTE *)query_buf, *hi = lo + sizeof query_buf, *at = (const BYTE *)s->Buffer;
  if (s->Length % 2 != 0) return ERROR_INVALID_DATA;
  if (s->Length == 0) {
    *text = L"";
    *units = 0;
    return 0;
  }
  if (at < lo + sizeof(NtText) || at > hi || (size_t)(hi - at) < s->Length) return ERROR_INVALID_DATA;
  *text = s->Buffer;
  *units = s->Length / 2;
  return 0;
}

/* Reads exactly `n` bytes at `address` of another process. */
static DWORD read_exact(HANDLE h, ULONG_PTR address, void *into, SIZE_T n) {
  SIZE_T got = 0;
  if (!ReadProcessMemory(h, (LPCVOID)address, into, n, &got)) return GetLastError();
  return got == n ? 0 : ERROR_PARTIAL_COPY;
}

/* The command line from the PEB (x64 layout: PEB+0x20 ProcessParameters, +0x70 CommandLine). */
static DWORD command_line_peb(HANDLE h, const WCHAR **text, size_t *units) {
  BasicInformation info;
  ULONG got = 0;
  LONG status = nt_query(h, PROCESS_BASIC_INFORMATION_CLASS, &info, (ULONG)sizeof info, &got);
  if (status < 0) return status_error(status);
  if (!info.PebBaseAddress) return ERROR_INVALID_DATA;
  ULONG_PTR params = 0;
  DWORD error = read_exact(h, (ULONG_PTR)info.PebBaseAddress + 0x20, &params, sizeof params);
  if (error) return error;
  if (!params) return ERROR_INVALID_DATA;
  struct { USHORT Length; USHORT MaximumLength; ULONG pad; ULONG64 Buffer; } remote;
  error = read_exact(h, params + 0x70, &remote, sizeof remote);
  if (error) return error;
  if (remote.Length % 2 != 0 || remote.Length > MAX_WIDE * 2) return ERROR_INVALID_DATA;
  if (remote.Length > 0) {
    if (!remote.Buffer) return ERROR_INVALID_DATA;
    error = read_exact(h, (ULONG_PTR)remote.Buffer, wide_buf, remote.Length);
    if (error) return error;
  }
  *text = wide_buf;
  *units = remote.Length / 2;
  return 0;
}

static void out_command_line(HANDLE h, BOOL can_read_memory) {
  const WCHAR *text = NULL;
  size_t units = 0;
  DWORD error = command_line_class60(h, &text, &units);
  /* Class 60 unknown (before Windows 8.1): the PEB is the only way, and it needs PROCESS_VM_READ. */
  BOOL unsupported = error == ERROR_INVALID_PARAMETER || error == ERROR_NOT_SUPPORTED || error == ERROR_INVALID_FUNCTION || error == ERROR_CALL_NOT_IMPLEMENTED;
  if (error && can_read_memory) {
    DWORD peb = command_line_peb(h, &text, &units);
    /* Keep class 60's reason when it was a refusal and the PEB read failed too. */
    if (!peb || unsupported) error = peb;
  } else if (error && unsupported) error = ERROR_ACCESS_DENIED;
  if (error) out_failure(error);
  else out_wide_field(text, units);
}

static void out_image_path(HANDLE h) {
  DWORD size = MAX_WIDE;
  if (!QueryFullProcessImageNameW(h, 0, wide_buf, &size)) out_failure(GetLastError());
  else out_wide_field(wide_buf, size <= MAX_WIDE ? size : MAX_WIDE);
}

static void out_started(HANDLE h) {
  FILETIME created, exited, kernel, user;
  SYSTEMTIME t;
  if (!GetProcessTimes(h, &created, &exited, &kernel, &user)) {
    out_failure(GetLastError());
    return;
  }
  if ((created.dwHighDateTime | created.dwLowDateTime) == 0 || !FileTimeToSystemTime(&created, &t)) {
    out_str("!none");
    return;
  }
  char iso[40];
  int n = snprintf(iso, sizeof iso, "=%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds);
  if (n > 0 && (size_t)n < sizeof iso) out_bytes(iso, (size_t)n);
  else out_str("!none");
}

/* Account names already looked up in this run (LookupAccountSidW can be slow for domain SIDs). */
static struct { BYTE sid[SECURITY_MAX_SID_SIZE]; char name[3 * 520 + 8]; size_t len; } users[USER_CACHE];
static int user_count;

static void out_user(HANDLE h) {
  HANDLE token = NULL;
  union { TOKEN_USER user; BYTE bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE + 16]; } info;
  DWORD got = 0;
  if (!OpenProcessToken(h, TOKEN_QUERY, &token)) {
    out_failure(GetLastError());
    return;
  }
  BOOL ok = GetTokenInformation(token, TokenUser, &info, sizeof info, &got);
  DWORD error = ok ? 0 : GetLastError();
  CloseHandle(token);
  if (!ok) {
    out_failure(error);
    return;
  }
  PSID sid = info.user.User.Sid;
  if (!sid || !IsValidSid(sid) || GetLengthSid(sid) > SECURITY_MAX_SID_SIZE) {
    out_failure(ERROR_INVALID_SID);
    return;
  }
  for (int i = 0; i < user_count; i++) {
    if (EqualSid(sid, (PSID)users[i].sid)) {
      out_bytes("=", 1);
      out_escaped(users[i].name, users[i].len);
      return;
    }
  }
  WCHAR name[257], domain[257], joined[520];
  DWORD name_len = 257, domain_len = 257;
  SID_NAME_USE use;
  size_t units = 0;
  if (LookupAccountSidW(NULL, sid, name, &name_len, domain, &domain_len, &use) && name_len < 257 && domain_len < 257) {
    if (domain_len > 0) {
      memcpy(joined, domain, domain_len * sizeof(WCHAR));
      joined[domain_len] = L'\\';
      units = domain_len + 1;
    }
    memcpy(joined + units, name, name_len * sizeof(WCHAR));
    units += name_len;
  } else {
    LPWSTR text = NULL;
    if (!ConvertSidToStringSidW(sid, &text)) {
      out_failure(GetLastError());
      return;
    }
    units = wcslen(text);
    if (units > 519) units = 519;
    memcpy(joined, text, units * sizeof(WCHAR));
    LocalFree(text);
  }
  size_t n = to_utf8(joined, units);
  if (user_count < USER_CACHE && n < sizeof users[0].name) {
    CopySid(SECURITY_MAX_SID_SIZE, (PSID)users[user_count].sid, sid);
    memcpy(users[user_count].name, utf8_buf, n);
    users[user_count].len = n;
    user_count++;
  }
  out_bytes("=", 1);
  out_escaped(utf8_buf, n);
}

static void out_process(const PROCESSENTRY32W *pe) {
  out_str("P\t");
  out_uint(pe->th32ProcessID);
  out_tab();
  out_uint(pe->th32ParentProcessID);
  out_tab();
  size_t name_units = 0;
  while (name_units < MAX_PATH && pe->szExeFile[name_units]) name_units++;
  out_escaped(utf8_buf, to_utf8(pe->szExeFile, name_units));
  HANDLE h = NULL;
  BOOL can_read_memory = FALSE;
  DWORD open_error = 0;
  if (pe->th32ProcessID != 0) {
    h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, FALSE, pe->th32ProcessID);
    can_read_memory = h != NULL;
    if (!h) h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pe->th32ProcessID);
    if (!h) open_error = GetLastError();
  }
  if (!h) {
    /* The idle process (pid 0) has none of these; others could not be opened. */
    for (int i = 0; i < 4; i++) {
      out_tab();
      if (pe->th32ProcessID == 0) out_str("!none");
      else out_failure(open_error);
    }
    out_bytes("\n", 1);
    return;
  }
  out_tab();
  out_command_line(h, can_read_memory);
  out_tab();
  out_user(h);
  out_tab();
  out_started(h);
  out_tab();
  out_image_path(h);
  out_bytes("\n", 1);
  CloseHandle(h);
}

static int snapshot_processes(void) {
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE) {
    out_str("E\tprocess-snapshot\t");
    out_uint(GetLastError());
    out_str("\nEND\t0\t0\n");
    return 3;
  }
  PROCESSENTRY32W pe;
  memset(&pe, 0, sizeof pe);
  pe.dwSize = sizeof pe;
  unsigned long written = 0, seen = 0;
  for (BOOL more = Process32FirstW(snap, &pe); more; more = Process32NextW(snap, &pe)) {
    seen++;
    if (written < MAX_PROCESS_ROWS) {
      pe.szExeFile[MAX_PATH - 1] = 0;
      out_process(&pe);
      written++;
    }
    pe.dwSize = sizeof pe;
  }
  CloseHandle(snap);
  out_str("END\t");
  out_uint(written);
  out_tab();
  out_uint(seen);
  out_bytes("\n", 1);
  return seen > 0 ? 0 : 3;
}

/* ---- sockets --------------------------------------------------------------------------------- */

static void fmt_ip4(DWORD network_order, char *out, size_t size) {
  const BYTE *b = (const BYTE *)&network_order;
  snprintf(out, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/* RFC 5952 text of an IPv6 address (longest run of two or more zero groups as "::"). */
static void fmt_ip6(const UCHAR a[16], char *out, size_t size) {
  unsigned g[8];
  int best = -1, best_len = 0, run = -1, run_len = 0;
  for (int i = 0; i < 8; i++) {
    g[i] = ((unsigned)a[2 * i] << 8) | a[2 * i + 1];
    if (g[i] == 0) {
      if (run < 0) { run = i; run_len = 0; }
      if (++run_len > best_len) { best = run; best_len = run_len; }
    } else run = -1;
  }
  if (best_len < 2) best = -1;
  if (best == 0 && best_len == 5 && g[5] == 0xffff) {
    snprintf(out, size, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
    return;
  }
  size_t at = 0;
  for (int i = 0; i < 8 && at + 6 < size; i++) {
    if (i == best) {
      at += (size_t)snprintf(out + at, size - at, i == 0 ? "::" : ":");
      i += best_len - 1;
      continue;
    }
    at += (size_t)snprintf(out + at, size - at, i < 7 ? "%x:" : "%x", g[i]);
  }
  out[at < size ? at : size - 1] = 0;
}

static USHORT port_of(DWORD network_order) { return (USHORT)(((network_order & 0xff) << 8) | ((network_order >> 8) & 0xff)); }

/* Reads one table (growing the buffer while it grows); returns the Win32 error, 0 on success. */
static DWORD read_table(int tcp, ULONG family, void **table, DWORD *bytes) {
  DWORD size = 0;
  void *buf = NULL;
  DWORD rc = ERROR_INSUFFICIENT_BUFFER;
  for (int attempt = 0; attempt < 6 && rc == ERROR_INSUFFICIENT_BUFFER; attempt++) {
    DWORD asked = size;
    rc = tcp ? GetExtendedTcpTable(buf, &asked, FALSE, family, TCP_TABLE_OWNER_PID_ALL, 0)
             : GetExtendedUdpTable(buf, &asked, FALSE, family, UDP_TABLE_OWNER_PID, 0);
    if (rc != ERROR_INSUFFICIENT_BUFFER) break;
    free(buf);
    buf = NULL;
    if (asked > MAX_TABLE_BYTES) return ERROR_NOT_ENOUGH_MEMORY;
    size = asked + asked / 8 + 4096; /* the table may grow between the calls */
    buf = malloc(size);
    if (!buf) return ERROR_NOT_ENOUGH_MEMORY;
  }
  if (rc != NO_ERROR) {
    free(buf);
    return rc;
  }
  *table = buf;
  *bytes = buf ? size : 0;
  return 0;
}

/* Rows a table of `bytes` can hold (its rows start at `header`): the count it claims, cut to fit. */
static DWORD checked_rows(const void *table, DWORD bytes, size_t header, size_t row_size) {
  if (!table || bytes < header || header < sizeof(DWORD)) return 0;
  DWORD claimed = *(const DWORD *)table;
  size_t room = (bytes - header) / row_size;
  return claimed <= room ? claimed : (DWORD)room;
}

static unsigned long sockets_written, sockets_seen;

_Static_assert(offsetof(MIB_TCP6TABLE_OWNER_PID, table) == offsetof(MIB_TCPTABLE_OWNER_PID, table), "table layout");
_Static_assert(offsetof(MIB_UDPTABLE_OWNER_PID, table) == offsetof(MIB_TCPTABLE_OWNER_PID, table), "table layout");
_Static_assert(offsetof(MIB_UDP6TABLE_OWNER_PID, table) == offsetof(MIB_TCPTABLE_OWNER_PID, table), "table layout");

/* One row of any of the four tables, as printed. */
typedef struct {
  char local[64], remote[64];
  DWORD local_port, remote_port, state, pid;
} SocketLine;

static void read_row(int tcp, ULONG family, const void *row, SocketLine *s) {
  s->remote[0] = 0;
  s->remote_port = s->state = 0;
  if (tcp && family == AF_INET) {
    const MIB_TCPROW_OWNER_PID *r = row;
    fmt_ip4(r->dwLocalAddr, s->local, sizeof s->local);
    fmt_ip4(r->dwRemoteAddr, s->remote, sizeof s->remote);
    s->local_port = r->dwLocalPort, s->remote_port = r->dwRemotePort, s->state = r->dwState, s->pid = r->dwOwningPid;
  } else if (tcp) {
    const MIB_TCP6ROW_OWNER_PID *r = row;
    fmt_ip6(r->ucLocalAddr, s->local, sizeof s->local);
    fmt_ip6(r->ucRemoteAddr, s->remote, sizeof s->remote);
    s->local_port = r->dwLocalPort, s->remote_port = r->dwRemotePort, s->state = r->dwState, s->pid = r->dwOwningPid;
  } else if (family == AF_INET) {
    const MIB_UDPROW_OWNER_PID *r = row;
    fmt_ip4(r->dwLocalAddr, s->local, sizeof s->local);
    s->local_port = r->dwLocalPort, s->pid = r->dwOwningPid;
  } else {
    const MIB_UDP6ROW_OWNER_PID *r = row;
    fmt_ip6(r->ucLocalAddr, s->local, sizeof s->local);
    s->local_port = r->dwLocalPort, s->pid = r->dwOwningPid;
  }
}

static void out_socket(int tcp, ULONG family, const SocketLine *s) {
  out_str(tcp ? "T\t" : "U\t");
  out_str(family == AF_INET ? "4\t" : "6\t");
  out_str(s->local);
  out_tab();
  out_uint(port_of(s->local_port));
  out_tab();
  if (tcp) {
    out_str(s->remote);
    out_tab();
    out_uint(port_of(s->remote_port));
    out_tab();
    out_uint(s->state);
    out_tab();
  }
  out_uint(s->pid);
  out_bytes("\n", 1);
}

/* Prints one table; returns 1 when it was read, 0 (and an E line) when not. */
static int emit_table(int tcp, ULONG family) {
  void *table = NULL;
  DWORD bytes = 0;
  DWORD error = read_table(tcp, family, &table, &bytes);
  if (error) {
    out_str(tcp ? "E\ttcp" : "E\tudp");
    out_str(family == AF_INET ? "4\t" : "6\t");
    out_uint(error);
    out_bytes("\n", 1);
    return 0;
  }
  /* Every table is a DWORD count followed by its rows (offsetof(..., table) == sizeof(DWORD)). */
  size_t row_size = tcp ? (family == AF_INET ? sizeof(MIB_TCPROW_OWNER_PID) : sizeof(MIB_TCP6ROW_OWNER_PID))
                        : (family == AF_INET ? sizeof(MIB_UDPROW_OWNER_PID) : sizeof(MIB_UDP6ROW_OWNER_PID));
  size_t header = offsetof(MIB_TCPTABLE_OWNER_PID, table);
  DWORD n = checked_rows(table, bytes, header, row_size);
  SocketLine line;
  for (DWORD i = 0; i < n; i++, sockets_seen++) {
    if (sockets_written >= MAX_SOCKET_ROWS) continue;
    read_row(tcp, family, (const BYTE *)table + header + (size_t)i * row_size, &line);
    out_socket(tcp, family, &line);
    sockets_written++;
  }
  free(table);
  return 1;
}

static int snapshot_sockets(void) {
  int tables = emit_table(1, AF_INET) + emit_table(1, AF_INET6) + emit_table(0, AF_INET) + emit_table(0, AF_INET6);
  out_str("END\t");
  out_uint(sockets_written);
  out_tab();
  out_uint(sockets_seen);
  out_bytes("\n", 1);
  return tables > 0 ? 0 : 3;
}

int main(int argc, char **argv) {
  out_handle = GetStdHandle(STD_OUTPUT_HANDLE);
  if (out_handle == NULL || out_handle == INVALID_HANDLE_VALUE) return 4;
  const char *mode = argc == 2 ? argv[1] : "";
  int processes = strcmp(mode, "processes") == 0;
  if (!processes && strcmp(mode, "sockets") != 0) {
    out_str("usage: mcpwatch-winsnap processes|sockets\n");
    out_flush();
    return 2;
  }
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (ntdll) {
    nt_query = (NtQueryInformationProcessFn)(void (*)(void))GetProcAddress(ntdll, "NtQueryInformationProcess");
    nt_to_dos = (RtlNtStatusToDosErrorFn)(void (*)(void))GetProcAddress(ntdll, "RtlNtStatusToDosError");
  }
  out_str("MCPWATCH-WINSNAP\t1\t");
  out_str(mode);
  out_bytes("\n", 1);
  int rc;
  if (processes && !nt_query) {
    out_str("E\tntdll\t");
    out_uint(ERROR_PROC_NOT_FOUND);
    out_str("\nEND\t0\t0\n");
    rc = 3;
  } else rc = processes ? snapshot_processes() : snapshot_sockets();
  out_flush();
  return rc;
}
