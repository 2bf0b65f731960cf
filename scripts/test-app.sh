#!/usr/bin/env bash
# Tests the reference application (docker/backend, docker/frontend) for real: the backend's
# pytest suite against a throwaway PostgreSQL server, then the built frontend in headless
# Chromium against the real backend and the same server.
#
# Installs what is missing first: Debian's postgresql and chromium (as root), the backend's
# virtualenv (scripts/backend-venv.sh, cached), the frontend's node_modules (npm ci).
# Stops everything it started. The last line is `app: N passed, N failed` over both suites;
# the exit status is non-zero when anything failed.
set -uo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
backend="$repo/docker/backend"
frontend="$repo/docker/frontend"
export NEXT_TELEMETRY_DISABLED=1 DEBIAN_FRONTEND=noninteractive

started=$SECONDS
log() { printf '[test-app %3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/test-app.XXXXXX")
pg_dir=

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [[ -n $pg_dir ]]; then
    bash "$here/postgres.sh" stop "$pg_dir" 2>/dev/null || log "could not stop PostgreSQL in $pg_dir"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
  echo "app: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit
}

# Setup that fails counts as one failure, and nothing after it runs.
setup_failed() {
  log "setup failed: $*"
  failed=$((failed + 1))
  finish
}

# --- what the tests need ------------------------------------------------------------

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[[ -x /usr/bin/chromium ]] || missing+=(chromium fonts-liberation)
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ $EUID -eq 0 ]] || setup_failed "missing ${missing[*]}; install them as root: apt-get install -y ${missing[*]}"
  log "installing ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; setup_failed "apt-get install ${missing[*]}"; }
fi

log "backend virtualenv"
python=$(bash "$here/backend-venv.sh" | tail -1) || setup_failed "scripts/backend-venv.sh"

# npm ci only when the lockfile changed since the last install.
lock_hash=$(sha256sum "$frontend/package-lock.json" | cut -c1-16)
stamp="$frontend/node_modules/.installed-lock"
if [[ ! -f $stamp || $(cat "$stamp") != "$lock_hash" ]]; then
  log "npm ci in docker/frontend"
  (cd "$frontend" && npm ci --no-audit --no-fund --loglevel=error) >&2 || setup_failed "npm ci"
  echo "$lock_hash" >"$stamp"
fi

log "building the frontend (next build, standalone)"
(cd "$frontend" && npm run build) >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; setup_failed "npm run build"; }

log "starting PostgreSQL"
pg_out=$(bash "$here/postgres.sh" start) || setup_failed "scripts/postgres.sh start"
pg_dir=$(sed -n 's/^MP_PG_DIR=//p' <<<"$pg_out")
database_url=$(sed -n 's/^DATABASE_URL=//p' <<<"$pg_out")

# --- the suites ---------------------------------------------------------------------

# Adds the counts of one suite; a suite that failed without reporting counts one failure.
count() {
  local name=$1 status=$2 suite_passed=$3 suite_failed=$4
  if [[ $status -ne 0 && $suite_failed -eq 0 ]]; then
    log "$name exited with status $status without reporting a failed test"
    suite_failed=1
  fi
  log "$name: $suite_passed passed, $suite_failed failed"
  passed=$((passed + suite_passed))
  failed=$((failed + suite_failed))
}

# Sums `<n> <word>` pairs of pytest's closing line for the given words.
pytest_count() {
  local total=0 n
  for word in "$@"; do
    n=$(tail -1 "$work/pytest.log" | grep -oE "[0-9]+ $word\b" | grep -oE '^[0-9]+' || true)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

log "backend: pytest"
(cd "$backend" && TEST_DATABASE_URL=$database_url "$python" -m pytest -p no:cacheprovider) 2>&1 |
  tee "$work/pytest.log" >&2
status=${PIPESTATUS[0]}
count backend "$status" "$(pytest_count passed)" "$(pytest_count failed errors error)"

log "frontend: browser test"
(
  cd "$frontend" &&
    TEST_DATABASE_URL=$database_url BACKEND_PYTHON=$python node --test \
      --test-reporter=spec --test-reporter-destination=stderr \
      --test-reporter=tap --test-reporter-destination="$work/node.tap" \
      test/app.test.mjs
)
status=$?
# Sums the `# <word> <n>` summary lines of node's TAP output for the given words.
tap_count() {
  local total=0 n
  for word in "$@"; do
    n=$(sed -n "s/^# $word \([0-9]*\)$/\1/p" "$work/node.tap" 2>/dev/null | tail -1)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
count frontend "$status" "$(tap_count pass)" "$(tap_count fail cancelled)"

finish
