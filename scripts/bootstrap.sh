#!/usr/bin/env bash
# Make this machine ready for hallq's tests: the Debian packages listed in
# scripts/debian-packages.txt, and a Python >= 3.11 that can create a venv.
#
# As root, missing packages are installed with apt-get (one `apt-get update` first);
# when everything is installed already, nothing is run. As another user, missing
# packages are named with the command to install them, and the script fails.
# PY (default python3) is the interpreter `make venv` will use.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list="$here/debian-packages.txt"
PY=${PY:-python3}

fail() {
  echo "bootstrap: error: $*" >&2
  exit 1
}

mapfile -t packages < <(sed -e 's/#.*//' "$list" | tr -s ' \t' '\n\n' | grep -v '^$')

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "bootstrap: not a Debian system: make sure these (or their equivalents) are installed:" \
    "${packages[*]}" >&2
else
  missing=()
  for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
  install="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [ ${#missing[@]} -eq 0 ]; then
    echo "bootstrap: Debian packages present: ${packages[*]}"
  elif [ "$(id -u)" -ne 0 ]; then
    fail "missing Debian packages: ${missing[*]}
  install them as root, then run make again:
    sudo apt-get update && sudo $install"
  else
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  fi
fi

command -v "$PY" >/dev/null 2>&1 ||
  fail "'$PY' not found: hallq needs Python >= 3.11 (Debian 12: apt-get install python3 python3-venv; or make PY=/path/to/python3.11)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  fail "'$PY' is $("$PY" --version 2>&1): hallq needs Python >= 3.11 (run make PY=/path/to/python3.11)"
"$PY" -c 'import ensurepip, venv' 2>/dev/null ||
  fail "'$PY' cannot create a virtual environment (no ensurepip): on Debian, apt-get install python3-venv"
echo "bootstrap: $("$PY" --version 2>&1) at $(command -v "$PY") can create the venv"
