#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv outside the checkout and use it as a new user would:
# `zhengce search` on the bundled corpus and the README's Python example. Also checks that the wheel
# installs one import name (zhengce) and nothing else. CI runs this after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d /tmp/zhengce-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "wheel: building"
rm -rf dist build
.venv/bin/python -m pip --disable-pip-version-check wheel -q --no-deps --no-build-isolation -w dist . >/dev/null
rm -rf build  # setuptools' staging copy: not ours to keep
wheel=$(ls dist/zhengce-*.whl)
echo "wheel: $wheel"
top_level=$(.venv/bin/python - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
print(" ".join(sorted({n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")})))
EOF
)
[ "$top_level" = "zhengce" ] || { echo "wheel: expected only zhengce/ at the top level, found: $top_level" >&2; exit 1; }
for data in zhengce/index/policy_terms.txt zhengce/index/concepts.txt zhengce/eval/testset_2018.jsonl; do
  .venv/bin/python -c "import sys, zipfile; sys.exit(0 if '$data' in zipfile.ZipFile('$wheel').namelist() else 1)" \
    || { echo "wheel: package data $data is missing" >&2; exit 1; }
done

echo "wheel: installing into a fresh venv ($work/venv)"
python3 -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install "torch==2.13.0"  # the CPU build, before anything asks for "torch"
"${pip[@]}" install "$wheel"

cd "$work"  # away from the checkout: nothing may be imported from it
if "$work/venv/bin/python" -c "import app" 2>/dev/null; then echo "wheel: 'import app' works: a generic package leaked into site-packages" >&2; exit 1; fi
export ZHENGCE_HOME="$work/home"
"$work/venv/bin/zhengce" search 积分入学政策 --corpus "$repo/corpus" --k 2 | tee "$work/search.txt"
grep -q "积分入学" "$work/search.txt"
# the README's Python example, as printed there
"$work/venv/bin/python" - "$repo/corpus" <<'EOF'
import sys

import zhengce

lib = zhengce.Library.open(corpus=sys.argv[1])
for hit in lib.search("积分入学政策", k=3):
    print(hit.year, hit.section, hit.text[:40])
print(lib.ask("今年新增多少学位？").text)
EOF
echo "wheel: ok"
