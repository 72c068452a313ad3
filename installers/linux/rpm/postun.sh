# %postun ($1: 0 = erase, 1 = upgrade): reload units. RPM has no purge: the agent's state
# (/var/lib/mcpwatch) and logs stay after `rpm -e` so a reinstall keeps its identity; delete them
# by hand to forget the enrollment.
#MCPWATCH_ENV#
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
