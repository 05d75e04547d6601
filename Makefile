# One virtual environment (.venv) for everything; every target brings it up to date first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)

# scale profile of the book's notebooks: smoke | cpu | gpu | paper (see nc_core/book/chapters.py)
PROFILE ?= cpu
# FRESH=1: retrain every run of the profile into an empty store (_build/fresh-results) instead of reusing data/results
FRESH ?=
# pages executed at the same time (each after the pages it reads; kernels share the cores): one per core
JOBS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: book pages test lint venv data chromium mathjax clean

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# pip compiles the bytecode of what it installs one file at a time; compileall does it on every core (install
# 99 s -> 74 s on 2 cores, the same imports after). A file for a newer Python (torch's py312_intrinsics.py)
# does not compile: pip skips such a file silently, and so does this.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --no-compile -e ".[book,dev]"
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib || true
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

## make data: MNIST and FashionMNIST under data/ (verified; nothing is fetched twice)
data: venv
	$(BIN)/python -m nc_core data fetch mnist fashionmnist

## headless Chromium for `book check` (Debian's package, driven by playwright; never `playwright install`)
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

## MathJax served with the book (no CDN: pages render their maths offline), from the npm registry
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-svg.js
$(MATHJAX):
	rm -rf _build/mathjax && mkdir -p _build/mathjax book/_static/mathjax
	cd _build/mathjax && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-$(MATHJAX_VERSION).tgz
	cd _build/mathjax/package/es5 && cp -r tex-svg.js input ui a11y adaptors $(CURDIR)/book/_static/mathjax/
mathjax: $(MATHJAX)

## make book: run every chapter notebook with papermill at $(PROFILE), $(JOBS) at a time (each page recorded for the generated
## execution status page, book/generated/status.md), then build the Jupyter Book (HTML under _build/html)
## with notebook execution off, then open every page in headless Chromium at 1280 px (error outputs, broken
## images, chapters without figures, tables or figures too wide for their column, parameter cells shown,
## broken figure-data links; full-page screenshots in _build/screenshots) and fill its result into the
## status page
book: pages chromium $(MATHJAX)
	$(BIN)/jupyter-book build . --builder html -W --keep-going
	$(BIN)/python -m nc_core book check

## the first half of `make book`: every chapter notebook executed at $(PROFILE) into book/generated/
pages: venv data
	$(BIN)/python -m nc_core book execute --profile $(PROFILE) --jobs $(JOBS) $(if $(FRESH),--fresh)

## make test: lint, then the test suite. Asked together with the book (`make -j2 book test PROFILE=smoke`, as
## .ci/run does), the suite starts once the pages are executed, reads them (its notebook tests take a page
## executed at smoke from this commit instead of executing it again) and runs beside the book's HTML build
test: venv lint data chromium $(if $(filter book,$(MAKECMDGOALS)),pages)
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf _build book/generated
