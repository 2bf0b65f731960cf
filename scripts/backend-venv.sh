#!/usr/bin/env bash
# A Python virtualenv with the backend's runtime and test requirements
# (docker/backend/requirements*.txt), cached under ${MP_CACHE:-$HOME/.cache/minikube-preview}
# and keyed by the hash of those files and the Python version, so a warm run only checks it.
#
# Progress goes to stderr; the last line of stdout is the venv's python. Run the backend with:
#   cd docker/backend && "$python" -m uvicorn app.main:app --port 8001
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
backend="$here/../docker/backend"
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "backend-venv: '$python' is not on PATH" >&2; exit 1; }

cache=${MP_CACHE:-$HOME/.cache/minikube-preview}
mkdir -p "$cache/backend-venv"
cache=$(cd "$cache" && pwd)

key=$(
  {
    "$python" -c 'import sys; print(sys.version)'
    cat "$backend/requirements.txt" "$backend/requirements-test.txt"
  } | sha256sum | cut -c1-16
)
venv="$cache/backend-venv/$key"

# One creator at a time; the venv counts only once `.complete` is written.
exec 9>"$venv.lock"
flock 9
if [[ ! -f $venv/.complete ]]; then
  echo "backend-venv: creating $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$backend/requirements.txt" -r "$backend/requirements-test.txt" >&2
  touch "$venv/.complete"
else
  echo "backend-venv: reusing $venv" >&2
fi
flock -u 9

echo "$venv/bin/python"
