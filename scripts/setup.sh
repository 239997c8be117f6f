#!/usr/bin/env bash
# Create .venv and install zhengce into it. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null; then python_bin="$candidate"; break; fi
  done
fi
[ -n "$python_bin" ] || { echo "setup: Python 3.11 not found; install it and run again" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $python_bin"
  "$python_bin" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check)

# CPU torch first and pinned: left to itself, pip resolves sentence-transformers' "torch" to a
# multi-GB CUDA build.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: installing torch==2.13.0 (CPU)"
  "${pip[@]}" install "torch==2.13.0"
fi
extras="${ZHENGCE_EXTRAS:-}"
echo "setup: installing zhengce${extras:+[$extras]} and its dependencies"
"${pip[@]}" install -q -e ".${extras:+[$extras]}"
echo "setup: done (.venv/bin/zhengce)"
