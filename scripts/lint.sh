#!/usr/bin/env bash
# make lint: set everything up, then run ruff (lint rules and the formatter's check) and check
# that the migrations match the models.
# Every check runs even when one fails, so one run shows every problem.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
status=0
.venv/bin/ruff check . || status=$?
.venv/bin/ruff format --check . || status=$?
# An empty in-memory database: the check compares the models with the migration files and
# needs no real database (it neither creates var/lab.sqlite3 nor reaches DATABASE_URL's).
DATABASE_URL=sqlite://:memory: .venv/bin/python manage.py makemigrations --check --dry-run \
  || status=$?
exit "$status"
