#!/usr/bin/env bash
# make lint: set everything up, then run ruff and check that the migrations match the models.
# Both checks run even when the first fails, so one run shows every problem.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
status=0
.venv/bin/ruff check . || status=$?
# An empty in-memory database: the check compares the models with the migration files and
# needs no real database (it neither creates var/lab.sqlite3 nor reaches DATABASE_URL's).
DATABASE_URL=sqlite://:memory: .venv/bin/python manage.py makemigrations --check --dry-run \
  || status=$?
exit "$status"
