#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian/Ubuntu machine with python3 (3.11+), git and make.
#   scripts/setup.sh run   system fonts, .venv, runtime packages, database, demo account and data
#   scripts/setup.sh test  the same packages plus the test tools (no demo data)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
python=${PYTHON:-python3}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

"$python" - <<'PY' || { echo "Hangul Lab needs Python 3.11 or newer (found $($python --version))."; exit 1; }
import sys
sys.exit(sys.version_info < (3, 11))
PY

# --- System packages: Hangul fonts, gettext to compile the translations (and, for the
# tests, docker-compose to check the compose file, Chromium for the browser tests and
# curl to run the README's API example).
# Installed only when apt-get is usable, i.e. as root on Debian/Ubuntu.
packages=(fontconfig fonts-nanum fonts-unfonts-core fonts-baekmuk gettext)
[ "$mode" = test ] && packages+=(docker-compose chromium curl)
"$python" -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]}"
    echo "Install them with:  sudo apt-get install ${missing[*]}"
  fi
fi

# --- Python packages, pinned. Reinstalled only when the requirement files change.
if [ ! -x .venv/bin/python ]; then
  say "Creating .venv"
  "$python" -m venv .venv
fi
requirements=requirements.txt
[ "$mode" = test ] && requirements=requirements-dev.txt
hash=$(cat requirements*.txt | sha256sum | cut -c1-16)
# The test set is a superset of the runtime set.
if [ ! -f ".venv/.installed-$hash-$mode" ] && [ ! -f ".venv/.installed-$hash-test" ]; then
  say "Installing Python packages from $requirements"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  touch ".venv/.installed-$hash-$mode"
fi

# Steps that take seconds run again only when what they read changed, so a restart of
# `make run` is ready in seconds. `stale STAMP PATH...`: the stamp is missing, or a file
# or folder under the paths is newer (a deleted file makes its folder newer), as make
# decides; `fresh STAMP` marks the step done.
stale() {
  local stamp=$1
  shift
  [ ! -f "$stamp" ] || [ -n "$(find "$@" -newer "$stamp" -print -quit 2>/dev/null)" ]
}
fresh() { mkdir -p "$(dirname "$1")" && touch "$1"; }

# The fonts, checked again when fontconfig's list of them changes.
fonts=".venv/.fonts-$(fc-list 2>/dev/null | sort | sha256sum | cut -c1-16)"
if [ ! -f "$fonts" ]; then
  if .venv/bin/python manage.py render_dataset --list-fonts >/dev/null 2>&1; then
    rm -f .venv/.fonts-*
    fresh "$fonts"
  else
    echo "No Hangul font found: plots show boxes and font rendering is off."
    echo "Install fonts with:  sudo apt-get install fonts-nanum fonts-unfonts-core fonts-baekmuk"
  fi
fi

# The Korean and English catalogues, compiled from locale/*/LC_MESSAGES/*.po.
if ! command -v msgfmt >/dev/null; then
  echo "gettext is missing: the lab speaks English only. Install it with:  sudo apt-get install gettext"
elif stale .venv/.compiled-messages locale; then
  .venv/bin/python manage.py compilemessages --ignore=.venv --verbosity 0
  fresh .venv/.compiled-messages
fi

if [ "$mode" = run ]; then
  var=${VAR_DIR:-var}
  mkdir -p "$var"
  say "Preparing the database and static files"
  .venv/bin/python manage.py migrate --noinput --verbosity 0
  # Django's admin and the API pages bring static files too: new packages, new files.
  if stale "$var/static/.collected" static requirements.txt; then
    .venv/bin/python manage.py collectstatic --noinput --verbosity 0
    fresh "$var/static/.collected"
  fi
  .venv/bin/python manage.py setup_demo
fi
