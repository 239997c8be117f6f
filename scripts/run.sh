#!/usr/bin/env bash
# The main job: set up, build the index of the bundled corpus if there is none, and run a sample search.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/zhengce demo "$@"
