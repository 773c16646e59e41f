# The front door. Each target is one line into scripts/, where the logic is plain shell.
.PHONY: run test lint bench

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

lint:
	@bash scripts/lint.sh

bench:
	@bash scripts/setup.sh test && .venv/bin/python bench/convert.py && .venv/bin/python bench/train.py && .venv/bin/python bench/predict.py && .venv/bin/python bench/load.py && .venv/bin/python bench/scale.py && .venv/bin/python bench/handwriting.py && .venv/bin/python bench/hangul2350.py && .venv/bin/python bench/faults.py && .venv/bin/python bench/restart.py && .venv/bin/python bench/image_memory.py
