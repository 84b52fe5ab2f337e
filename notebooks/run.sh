#!/usr/bin/env bash
# Executes notebooks/explore.ipynb headless against a mined folder, so the notebook never rots.
#
#   notebooks/run.sh MINED_DIR [EXECUTED.ipynb]
#
# MINED_DIR holds incidents.parquet and hypotheses.parquet (`funnel mine ROOT --out MINED_DIR`).
# The executed copy (with outputs) goes to EXECUTED.ipynb, default MINED_DIR/explore.ipynb; the
# source notebook is left untouched. Set FUNNEL_NOTEBOOK_INSTALL=1 to pip-install
# notebooks/requirements.txt first (CI); otherwise a missing package is reported.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 1 ]]; then
    echo "usage: $0 MINED_DIR [EXECUTED.ipynb]" >&2
    exit 2
fi
mined="$(cd "$1" && pwd)"
out="${2:-$mined/explore.ipynb}"
python="${PYTHON:-python3}"

for f in incidents.parquet hypotheses.parquet; do
    [[ -f "$mined/$f" ]] || { echo "error: $mined/$f is missing (run funnel mine first)" >&2; exit 2; }
done
if [[ "${FUNNEL_NOTEBOOK_INSTALL:-0}" == 1 ]]; then
    "$python" -m pip install --quiet -r "$here/requirements.txt"
fi
"$python" - "$here/explore.ipynb" "$out" "$mined" <<'PY'
import os, sys
try:
    import nbformat
    from nbclient import NotebookClient
except ImportError as e:
    sys.exit(f"error: {e.name} is not installed (pip install -r notebooks/requirements.txt, or FUNNEL_NOTEBOOK_INSTALL=1)")
src, out, mined = sys.argv[1:4]
os.environ["FUNNEL_MINED"] = mined
nb = nbformat.read(src, as_version=4)
# Run from the notebook's folder, as Jupyter would, so the default path resolves the same way.
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": os.path.dirname(src)}}).execute()
nbformat.write(nb, out)
print(f"executed {src} against {mined} -> {out}")
PY
