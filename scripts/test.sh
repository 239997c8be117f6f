#!/usr/bin/env bash
# Set up everything the tests need, then run them all (unit tests with a fake embedder, end-to-end
# tests with the real model). Extra arguments go to pytest, e.g. scripts/test.sh -m "not model".
set -euo pipefail
cd "$(dirname "$0")/.."
ZHENGCE_EXTRAS=test bash scripts/setup.sh
# The browser test drives Debian's chromium through Playwright (Playwright's own browser download is
# unreachable offline); a CJK font so screenshots show Chinese. Only when missing, as root, with apt-get.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test: installing chromium and a Chinese font for the browser test"
  apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
