#!/usr/bin/env bash
# Set up everything the tests need, then run them all (unit tests with a fake embedder, end-to-end
# tests with the real model). Extra arguments go to pytest, e.g. scripts/test.sh -m "not model".
set -euo pipefail
cd "$(dirname "$0")/.."
ZHENGCE_EXTRAS=test bash scripts/setup.sh
# antiword reads .doc files (a test checks its one-line errors); install it when we can (CI runs as root)
if ! command -v antiword >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq antiword) >/dev/null 2>&1 || echo "test: could not install antiword; its test is skipped" >&2
fi
exec .venv/bin/python -m pytest "$@"
