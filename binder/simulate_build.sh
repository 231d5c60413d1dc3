#!/usr/bin/env bash
# Simulate a Binder build without Docker: a fresh virtual environment built only from the
# files in binder/ (no pip cache), then import radnb and run the en/01_data tutorial in it.
#   binder/simulate_build.sh [WORKDIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d -t radnb-binder-XXXX)}
py=$(command -v python3.11 || command -v python3)
echo "simulating Binder in $work with $("$py" --version)"
"$py" -m venv "$work/env"
export PATH="$work/env/bin:$PATH" PIP_NO_CACHE_DIR=1 RADNB_DATA="$work/radnb_data"
cp -r "$repo" "$work/repo" && rm -rf "$work/repo/.venv" "$work/repo/.tools"
cd "$work/repo"
start=$(date +%s)
python -m pip install --quiet --no-cache-dir -r binder/requirements.txt
bash binder/postBuild
echo "build took $(( $(date +%s) - start )) s"
python -c "import radnb, radiomics; print('radnb', radnb.__version__, 'pyradiomics', radiomics.__version__)"
python - <<'PY'
from radnb._notebooks import execute_notebook
r = execute_notebook("notebooks/en/01_data.ipynb", timeout=300)
print(f"01_data ran in {r['seconds']:.0f} s")
PY
echo "binder simulation OK"
