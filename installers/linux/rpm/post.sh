# %post ($1: 1 = install, 2+ = upgrade): enroll on first install, enable and start (install) or
# restart (upgrade) where systemd runs. State is never touched on upgrade.
#MCPWATCH_ENV#
mcpwatch_enroll_if_needed
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -eq 1 ]; then
    systemctl enable --now "$MCPWATCH_UNIT" >/dev/null 2>&1 || :
  else
    systemctl try-restart "$MCPWATCH_UNIT" >/dev/null 2>&1 || :
  fi
fi
exit 0
