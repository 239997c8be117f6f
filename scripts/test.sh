#!/usr/bin/env bash
# Set up everything the tests need, then run them all (unit tests with a fake embedder, end-to-end
# tests with the real model and a real browser). Extra arguments go to pytest, e.g. scripts/test.sh -m "not model".
set -euo pipefail
cd "$(dirname "$0")/.."
# the milvus extra: CI runs the Milvus backend's tests against milvus-lite (the default install needs no pymilvus)
ZHENGCE_EXTRAS=test,milvus bash scripts/setup.sh

# Debian packages the tests use, installed only when missing (CI runs as root with apt-get):
# - chromium: the browser test drives it through Playwright (Playwright's own browser download is unreachable offline)
# - fonts-wqy-zenhei: so screenshots show Chinese
# - antiword: reads .doc files
# - libgl1, libglib2.0-0: OpenCV (under RapidOCR, which reads scans) links to them even without a display
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || missing+=(fonts-wqy-zenhei)
command -v antiword >/dev/null || missing+=(antiword)
ldconfig -p 2>/dev/null | grep -q "libGL.so.1 " || missing+=(libgl1)
ldconfig -p 2>/dev/null | grep -q "libgthread-2.0.so.0 " || missing+=(libglib2.0-0)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test: installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test: missing ${missing[*]} (install them with apt-get as root); tests that need them will fail or skip" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
