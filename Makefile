# Convenience targets; README.md has the two commands that need nothing but Debian and Python.
PYTHON ?= .venv/bin/python

.PHONY: test demo bench

test:
	$(PYTHON) -m pytest

demo:
	$(PYTHON) -m crawler.cli demo

bench:
	$(PYTHON) -m crawler.cli bench
