#!/usr/bin/env bash
# The main job: set up, build the index of the bundled corpus if there is none, and start the web chat
# (prints its URL). Extra arguments go to `zhengce serve`, e.g. scripts/run.sh --port 8080.
# The earlier one-shot sample search is still there: .venv/bin/zhengce demo
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/zhengce serve "$@"
