#!/usr/bin/env bash
# Installs whatever scripts/packages.txt lists that is not installed yet
# (Debian 12; apt-get through sudo when not root). Does nothing when all are
# present, so it is cheap to call before every build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$top/scripts/packages.txt" | grep -v '^$')
missing=()
for entry in "${packages[@]}"; do
  p=${entry%%@*}
  if [ "$p" != "$entry" ]; then
    command -v "${entry#*@}" >/dev/null 2>&1 && continue  # pkg@cmd: the command is there
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
