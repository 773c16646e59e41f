#!/usr/bin/env bash
# make run: set everything up, then serve the lab until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
exec .venv/bin/python manage.py runlab --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
