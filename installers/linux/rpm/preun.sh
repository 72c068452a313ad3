# %preun ($1: 0 = erase, 1 = upgrade): stop and disable the service on erase only.
#MCPWATCH_ENV#
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl disable --now "$MCPWATCH_UNIT" >/dev/null 2>&1 || :
fi
exit 0
