#!/bin/sh
# Removes the mcpwatch agent from a Mac (run as root; Jamf/Kandji: as a script policy).
#   uninstall.sh           stop the daemon, remove the program and the package receipt; keep state
#   uninstall.sh --purge   also delete the agent's identity, spool and logs
set -u
LABEL=com.mcpwatch.agent
/bin/launchctl bootout "system/$LABEL" 2>/dev/null || true
/bin/rm -f "/Library/LaunchDaemons/$LABEL.plist"
/bin/rm -rf /usr/local/mcpwatch
/usr/sbin/pkgutil --forget com.mcpwatch.agent.pkg >/dev/null 2>&1 || true
if [ "${1:-}" = "--purge" ]; then
  /bin/rm -rf "/Library/Application Support/mcpwatch" /Library/Logs/mcpwatch
fi
exit 0
