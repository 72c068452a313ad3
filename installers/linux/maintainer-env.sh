# Shared settings of the Linux maintainer scripts (deb and rpm). Sourced at build time: the build
# inlines this file into each script so the installed scripts are self-contained.
MCPWATCH_UNIT=mcpwatch-agent.service
MCPWATCH_BIN=/usr/bin/mcpwatch-agent
MCPWATCH_STATE_DIR=/var/lib/mcpwatch
MCPWATCH_LOG_DIR=/var/log/mcpwatch
MCPWATCH_CONFIG=/etc/mcpwatch/agent.json

# Enrolls once: on first install, or while the state dir holds no enrollment.json (an earlier
# enrollment failed; the enroll command writes that file last). Other files in the state dir do
# not count: a `mcpwatch-agent hook` run as root before the install journals into the default
# state dir (hook-journal/), which must not stop the enrollment. Upgrades never re-enroll, so the
# agent keeps its identity and spool. The agent reads the
# server URL, enroll secret and CA fingerprint from $MCPWATCH_CONFIG itself: the secret never
# appears on a command line. A failure is reported and does not fail the installation (the
# collector may be unreachable now); re-run `mcpwatch-agent enroll` later.
mcpwatch_enroll_if_needed() {
  install -d -m 0700 "$MCPWATCH_STATE_DIR"
  install -d -m 0750 "$MCPWATCH_LOG_DIR"
  if [ ! -f "$MCPWATCH_CONFIG" ]; then
    echo "mcpwatch-agent: $MCPWATCH_CONFIG not found; write it (server, enrollSecret, caFingerprint) and run: mcpwatch-agent enroll --state-dir $MCPWATCH_STATE_DIR" >&2
    return 0
  fi
  if [ -f "$MCPWATCH_STATE_DIR/enrollment.json" ]; then
    return 0
  fi
  if timeout 120 "$MCPWATCH_BIN" enroll --state-dir "$MCPWATCH_STATE_DIR" --config "$MCPWATCH_CONFIG" >>"$MCPWATCH_LOG_DIR/enroll.log" 2>&1; then
    echo "mcpwatch-agent: enrolled (state in $MCPWATCH_STATE_DIR)" >&2
  else
    echo "mcpwatch-agent: enrollment failed, see $MCPWATCH_LOG_DIR/enroll.log; the agent will not ship events until enrolled" >&2
  fi
  return 0
}
