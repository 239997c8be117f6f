#!/usr/bin/env bash
# Set up everything the tests need, then run them all (unit tests with a fake embedder, end-to-end
# tests with the real model). Extra arguments go to pytest, e.g. scripts/test.sh -m "not model".
set -euo pipefail
cd "$(dirname "$0")/.."
ZHENGCE_EXTRAS=test bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
