/*
 * mcpwatch-service: the Windows service host for the mcpwatch agent, plus two helpers the MSI runs.
 *
 * The agent is a Node single executable; it cannot speak to the Service Control Manager
 * (StartServiceCtrlDispatcher / SetServiceStatus). This wrapper does, and runs the agent as a child:
 *
 *   mcpwatch-service.exe run-service
 *       (started by the SCM only) runs "<dir>\mcpwatch-agent.exe run --state-dir
 *       %ProgramData%\mcpwatch\state" in a kill-on-close job object at below-normal priority, on the
 *       service's own (allocated, invisible) console, with
 *       stdout/stderr appended to %ProgramData%\mcpwatch\logs\agent.log (rotated at 10 MiB, one
 *       old copy). If the agent exits it is restarted after 1 s, doubling to at most 60 s; a run
 *       that lasted 5 minutes resets the delay. Stop/shutdown terminates the job (the agent's spool
 *       is crash-safe by design) and reports SERVICE_STOPPED.
 *
 *   mcpwatch-service.exe write-config PATH SERVER_URL ENROLL_SECRET CA_FINGERPRINT
 *       writes {"server","enrollSecret","caFingerprint"} (the agent config keys) as JSON to PATH (via
 *       PATH.tmp), readable by SYSTEM and Administrators only (0600 elsewhere); PATH's directory
 *       gets a protected, inherited SYSTEM + Administrators ACL first (0700 elsewhere). An empty SERVER_URL
 *       leaves an existing file alone (upgrade/repair without properties keeps the configuration).
 *       Exit 0 on success or no-op, 2 on a bad value (MCPW_ERR_SERVICE_BAD_CONFIG), 3 on an I/O
 *       error (MCPW_ERR_SERVICE_IO). Values are never printed.
 *
 *   mcpwatch-service.exe enroll-if-needed AGENT_EXE STATE_DIR CONFIG
 *       restricts STATE_DIR's parent (the data directory) as write-config does; then, when
 *       STATE_DIR is missing or empty, runs AGENT_EXE enroll --state-dir STATE_DIR --config
 *       CONFIG and waits (at most 120 s). Always exits 0: a failed enrollment must not roll back
 *       the installation; the result goes to stderr / the MSI log.
 *
 * write-config and enroll-if-needed are portable C so they are tested on Linux as well.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#else
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define EXIT_BAD_CONFIG 2
#define EXIT_IO 3
#define ENROLL_TIMEOUT_SECONDS 120

/* ---- portable helpers ---------------------------------------------------------------------- */

/* Writes s as the body of a JSON string (quotes, backslashes and control characters escaped). */
static void json_escape(FILE *out, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
      case '"': fputs("\\\"", out); break;
      case '\\': fputs("\\\\", out); break;
      case '\n': fputs("\\n", out); break;
      case '\r': fputs("\\r", out); break;
      case '\t': fputs("\\t", out); break;
      default:
        if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
  }
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Restricts a written file to its owner/SYSTEM and Administrators. */
static int restrict_file(const char *path) {
#ifdef _WIN32
  PSECURITY_DESCRIPTOR sd = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  DWORD rc;
  /* Protected DACL: full access for SYSTEM and the Administrators group, nobody else. */
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;;FA;;;SY)(A;;FA;;;BA)", SDDL_REVISION_1, &sd, NULL)) return -1;
  if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) { LocalFree(sd); return -1; }
  rc = SetNamedSecurityInfoA((LPSTR)path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL, NULL, dacl, NULL);
  LocalFree(sd);
  return rc == ERROR_SUCCESS ? 0 : -1;
#else
  return chmod(path, 0600);
#endif
}

/*
 * Restricts the agent's data directory (%ProgramData%\mcpwatch) to SYSTEM and Administrators,
 * inherited by everything below it (state, logs, agent.json): ProgramData lets ordinary users create
 * and read files, and the agent's key and spool must not be readable by them. 0700 elsewhere.
 */
static int restrict_dir(const char *dir) {
#ifdef _WIN32
  PSECURITY_DESCRIPTOR sd = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  DWORD rc;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", SDDL_REVISION_1, &sd, NULL)) return -1;
  if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) { LocalFree(sd); return -1; }
  rc = SetNamedSecurityInfoA((LPSTR)dir, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL, NULL, dacl, NULL);
  LocalFree(sd);
  return rc == ERROR_SUCCESS ? 0 : -1;
#else
  return chmod(dir, 0700);
#endif
}

/* 1 for an absolute path: "/x" (POSIX), "C:\\x" or "\\\\server\\x" (Windows). */
static int is_absolute(const char *path) {
#ifdef _WIN32
  return (path[0] != '\0' && path[1] == ':' && (path[2] == '\\' || path[2] == '/')) || (path[0] == '\\' && path[1] == '\\');
#else
  return path[0] == '/';
#endif
}

/* The directory part of an absolute path; false when it does not fit. */
static int parent_dir(const char *path, char *out, size_t size) {
  const char *slash = strrchr(path, '/');
  const char *backslash = strrchr(path, '\\');
  const char *last = backslash > slash ? backslash : slash;
  size_t length = last ? (size_t)(last - path) : 0;
  if (length == 0 || length + 1 > size) return 0;
  memcpy(out, path, length);
  out[length] = '\0';
  return 1;
}

static int replace_file(const char *from, const char *to) {
#ifdef _WIN32
  return MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) ? 0 : -1;
#else
  return rename(from, to);
#endif
}

static int write_config(const char *path, const char *server_url, const char *secret, const char *fingerprint) {
  char tmp[4096];
  FILE *out;
  if (server_url[0] == '\0') {
    fprintf(stderr, "mcpwatch-service: no SERVER_URL given, keeping %s as it is\n", path);
    return 0;
  }
  if (!starts_with(server_url, "https://") && !starts_with(server_url, "http://")) {
    fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_BAD_CONFIG: SERVER_URL must start with https:// or http://\n");
    return EXIT_BAD_CONFIG;
  }
  if (!is_absolute(path)) {
    fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_BAD_CONFIG: the config path must be absolute\n");
    return EXIT_BAD_CONFIG;
  }
  if (strlen(path) + 5 >= sizeof tmp) {
    fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_BAD_CONFIG: config path too long\n");
    return EXIT_BAD_CONFIG;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  {
    char dir[4096];
    if (!parent_dir(path, dir, sizeof dir) || restrict_dir(dir) != 0) {
      fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_IO: cannot restrict access to the directory of %s\n", path);
      return EXIT_IO;
    }
  }
  out = fopen(tmp, "wb");
  if (!out) {
    fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_IO: cannot write %s: %s\n", tmp, strerror(errno));
    return EXIT_IO;
  }
  /* Restrict before any secret is written into it. */
  if (restrict_file(tmp) != 0) {
    fclose(out);
    remove(tmp);
    fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_IO: cannot restrict access to %s\n", tmp);
    return EXIT_IO;
  }
  fputs("{\n  \"server\": \"", out);
  json_escape(out, server_url);
  fputs("\"", out);
  if (secret[0] != '\0') {
    fputs(",\n  \"enrollSecret\": \"", out);
    json_escape(out, secret);
    fputs("\"", out);
  }
  if (fingerprint[0] != '\0') {
    fputs(",\n  \"caFingerprint\": \"", out);
    json_escape(out, fingerprint);
    fputs("\"", out);
  }
  fputs("\n}\n", out);
  if (fflush(out) != 0 || fclose(out) != 0 || replace_file(tmp, path) != 0) {
    remove(tmp);
    fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_IO: cannot replace %s\n", path);
    return EXIT_IO;
  }
  fprintf(stderr, "mcpwatch-service: wrote %s\n", path);
  return 0;
}

/* 1 when dir does not exist or holds no entries. */
static int dir_is_empty(const char *dir) {
#ifdef _WIN32
  char pattern[4096];
  WIN32_FIND_DATAA data;
  HANDLE find;
  int empty = 1;
  snprintf(pattern, sizeof pattern, "%s\\*", dir);
  find = FindFirstFileA(pattern, &data);
  if (find == INVALID_HANDLE_VALUE) return 1;
  do {
    if (strcmp(data.cFileName, ".") != 0 && strcmp(data.cFileName, "..") != 0) { empty = 0; break; }
  } while (FindNextFileA(find, &data));
  FindClose(find);
  return empty;
#else
  DIR *d = opendir(dir);
  struct dirent *entry;
  int empty = 1;
  if (!d) return 1;
  while ((entry = readdir(d)) != NULL) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) { empty = 0; break; }
  }
  closedir(d);
  return empty;
#endif
}

static int enroll_if_needed(const char *agent, const char *state_dir, const char *config) {
  int status = -1;
  char data_dir[4096];
  /* Runs on every install and upgrade, with or without properties: lock the data directory. */
  if (!is_absolute(state_dir) || !parent_dir(state_dir, data_dir, sizeof data_dir) || restrict_dir(data_dir) != 0) {
    fprintf(stderr, "mcpwatch-service: MCPW_ERR_SERVICE_IO: cannot restrict access to the directory of %s\n", state_dir);
  }
  if (!dir_is_empty(state_dir)) {
    fprintf(stderr, "mcpwatch-service: %s is not empty: already enrolled, nothing to do\n", state_dir);
    return 0;
  }
#ifdef _WIN32
  {
    char command[8192];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    DWORD code = 1;
    snprintf(command, sizeof command, "\"%s\" enroll --state-dir \"%s\" --config \"%s\"", agent, state_dir, config);
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    if (CreateProcessA(NULL, command, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi)) {
      if (WaitForSingleObject(pi.hProcess, ENROLL_TIMEOUT_SECONDS * 1000) == WAIT_TIMEOUT) TerminateProcess(pi.hProcess, 1);
      GetExitCodeProcess(pi.hProcess, &code);
      CloseHandle(pi.hThread);
      CloseHandle(pi.hProcess);
      status = (int)code;
    }
  }
#else
  {
    pid_t pid = fork();
    if (pid == 0) {
      alarm(ENROLL_TIMEOUT_SECONDS);
      execl(agent, agent, "enroll", "--state-dir", state_dir, "--config", config, (char *)NULL);
      _exit(127);
    }
    if (pid > 0) {
      int wstatus = 0;
      if (waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus)) status = WEXITSTATUS(wstatus);
    }
  }
#endif
  if (status == 0) fprintf(stderr, "mcpwatch-service: enrolled (state in %s)\n", state_dir);
  else fprintf(stderr, "mcpwatch-service: enrollment failed (exit %d); enroll later with: mcpwatch-agent enroll --state-dir \"%s\"\n", status, state_dir);
  return 0;
}

/* ---- Windows service host ------------------------------------------------------------------ */
#ifdef _WIN32
#define SERVICE_NAME "mcpwatch-agent"
#define LOG_ROTATE_BYTES (10LL * 1024 * 1024)
#define MAX_RESTART_DELAY_MS 60000
#define HEALTHY_RUN_MS (5 * 60 * 1000)

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS service_status;
static HANDLE stop_event;

static void report(DWORD state, DWORD exit_code, DWORD wait_hint) {
  static DWORD checkpoint = 1;
  service_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  service_status.dwCurrentState = state;
  service_status.dwWin32ExitCode = exit_code;
  service_status.dwWaitHint = wait_hint;
  service_status.dwControlsAccepted = state == SERVICE_START_PENDING ? 0 : SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN;
  service_status.dwCheckPoint = (state == SERVICE_RUNNING || state == SERVICE_STOPPED) ? 0 : checkpoint++;
  SetServiceStatus(status_handle, &service_status);
}

static DWORD WINAPI control_handler(DWORD control, DWORD type, LPVOID data, LPVOID context) {
  (void)type; (void)data; (void)context;
  if (control == SERVICE_CONTROL_STOP || control == SERVICE_CONTROL_SHUTDOWN) {
    report(SERVICE_STOP_PENDING, NO_ERROR, 10000);
    SetEvent(stop_event);
    return NO_ERROR;
  }
  return control == SERVICE_CONTROL_INTERROGATE ? NO_ERROR : ERROR_CALL_NOT_IMPLEMENTED;
}

/* Opens the agent log for appending, rotating it first when it is over LOG_ROTATE_BYTES. */
static HANDLE open_log(const char *logs_dir) {
  char log_path[MAX_PATH], old_path[MAX_PATH];
  WIN32_FILE_ATTRIBUTE_DATA info;
  SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
  snprintf(log_path, sizeof log_path, "%s\\agent.log", logs_dir);
  snprintf(old_path, sizeof old_path, "%s\\agent.log.1", logs_dir);
  if (GetFileAttributesExA(log_path, GetFileExInfoStandard, &info)) {
    LONGLONG size = ((LONGLONG)info.nFileSizeHigh << 32) | info.nFileSizeLow;
    if (size > LOG_ROTATE_BYTES) MoveFileExA(log_path, old_path, MOVEFILE_REPLACE_EXISTING);
  }
  return CreateFileA(log_path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
}

static void WINAPI service_main(DWORD argc, LPSTR *argv) {
  char self[MAX_PATH], agent[MAX_PATH], data[MAX_PATH], state_dir[MAX_PATH], logs_dir[MAX_PATH], command[4096];
  char *slash;
  HANDLE job;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
  DWORD delay_ms = 1000;
  (void)argc; (void)argv;

  status_handle = RegisterServiceCtrlHandlerExA(SERVICE_NAME, control_handler, NULL);
  if (!status_handle) return;
  report(SERVICE_START_PENDING, NO_ERROR, 5000);
  stop_event = CreateEventA(NULL, TRUE, FALSE, NULL);

  GetModuleFileNameA(NULL, self, sizeof self);
  slash = strrchr(self, '\\');
  if (slash) *slash = '\0';
  snprintf(agent, sizeof agent, "%s\\mcpwatch-agent.exe", self);
  if (!GetEnvironmentVariableA("ProgramData", data, sizeof data)) strcpy(data, "C:\\ProgramData");
  snprintf(state_dir, sizeof state_dir, "%s\\mcpwatch\\state", data);
  snprintf(logs_dir, sizeof logs_dir, "%s\\mcpwatch\\logs", data);
  CreateDirectoryA(logs_dir, NULL);
  snprintf(command, sizeof command, "\"%s\" run --state-dir \"%s\"", agent, state_dir);

  /* The agent gets a console of its own (inherited from this one, never shown: services have no
     interactive desktop). Node's libuv asserts (uv_get_process_title, util.c) when a process
     without a console asks for its title, and a service has none: seen under Wine, where
     CREATE_NO_WINDOW gives the child no console either. AllocConsole fails harmlessly when one
     exists. */
  AllocConsole();

  job = CreateJobObjectA(NULL, NULL);
  ZeroMemory(&limits, sizeof limits);
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
  report(SERVICE_RUNNING, NO_ERROR, 0);

  for (;;) {
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    HANDLE log = open_log(logs_dir);
    HANDLE waits[2];
    DWORD started = GetTickCount(), which;
    char mutable_command[4096];
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = NULL;
    si.hStdOutput = log;
    si.hStdError = log;
    strcpy(mutable_command, command);
    if (!CreateProcessA(agent, mutable_command, NULL, NULL, TRUE, CREATE_SUSPENDED | BELOW_NORMAL_PRIORITY_CLASS, NULL, self, &si, &pi)) {
      if (log != INVALID_HANDLE_VALUE) CloseHandle(log);
      if (WaitForSingleObject(stop_event, delay_ms) == WAIT_OBJECT_0) break;
      delay_ms = delay_ms * 2 > MAX_RESTART_DELAY_MS ? MAX_RESTART_DELAY_MS : delay_ms * 2;
      continue;
    }
    AssignProcessToJobObject(job, pi.hProcess);
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    if (log != INVALID_HANDLE_VALUE) CloseHandle(log);
    waits[0] = stop_event;
    waits[1] = pi.hProcess;
    which = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
    if (which == WAIT_OBJECT_0) {
      TerminateJobObject(job, 0);
      WaitForSingleObject(pi.hProcess, 5000);
      CloseHandle(pi.hProcess);
      break;
    }
    CloseHandle(pi.hProcess);
    if (GetTickCount() - started > HEALTHY_RUN_MS) delay_ms = 1000;
    if (WaitForSingleObject(stop_event, delay_ms) == WAIT_OBJECT_0) break;
    delay_ms = delay_ms * 2 > MAX_RESTART_DELAY_MS ? MAX_RESTART_DELAY_MS : delay_ms * 2;
  }
  CloseHandle(job);
  report(SERVICE_STOPPED, NO_ERROR, 0);
}
#endif

static int usage(void) {
  fprintf(stderr,
          "usage: mcpwatch-service run-service\n"
          "       mcpwatch-service write-config PATH SERVER_URL ENROLL_SECRET CA_FINGERPRINT\n"
          "       mcpwatch-service enroll-if-needed AGENT_EXE STATE_DIR CONFIG\n");
  return 64;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "write-config") == 0) {
    if (argc != 6) return usage();
    return write_config(argv[2], argv[3], argv[4], argv[5]);
  }
  if (argc >= 2 && strcmp(argv[1], "enroll-if-needed") == 0) {
    if (argc != 5) return usage();
    return enroll_if_needed(argv[2], argv[3], argv[4]);
  }
#ifdef _WIN32
  if (argc == 2 && strcmp(argv[1], "run-service") == 0) {
    SERVICE_TABLE_ENTRYA table[] = { { (LPSTR)SERVICE_NAME, service_main }, { NULL, NULL } };
    if (!StartServiceCtrlDispatcherA(table)) {
      fprintf(stderr, "mcpwatch-service: run-service is started by the Service Control Manager (error %lu)\n", GetLastError());
      return 1;
    }
    return 0;
  }
#endif
  return usage();
}
