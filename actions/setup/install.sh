#!/usr/bin/env bash
# Installs mlgate from this action's own checkout into an isolated venv and puts ONLY `mlgate` and `dvc` on
# PATH (through a shim dir), so the pinned stack never collides with the user's python and pip.
# Every package comes from a hash-locked file in locks/ and is checked against it (--require-hashes): uv
# does the install (a pinned version, itself installed by pip from locks/uv.txt with hash checking), pip the
# same install where uv cannot be installed or run.
#
#   install.sh          install, or reuse a venv already built from the same sources; expose the shims
#   install.sh prepare  compute the cache key and say whether the venv is ready; clear a stale one so that
#                       a cache restore lands in an empty dir
#
# actions/setup runs it; the other actions reach it through the `mlgate` script beside it, which installs
# first when mlgate is not on PATH yet.
#
# Environment: MLGATE_PYTHON     interpreter the venv is made from (default python3)
#              MLGATE_HOME       where the venv and shims live (default $RUNNER_TEMP/mlgate)
#              MLGATE_EXTRAS     all (default): the whole stack; report: only what posting a report needs
#              MLGATE_INSTALLER  auto (default): uv, else pip; pip: pip only
#              MLGATE_VENV_KEY   install: the key prepare printed (actions/setup passes it), else computed again
# Outputs ($GITHUB_OUTPUT): prepare -> key, venv, ready; install -> version
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${MLGATE_PYTHON:-python3}"
home="${MLGATE_HOME:-${RUNNER_TEMP:?RUNNER_TEMP is not set: run inside GitHub Actions or set MLGATE_HOME}/mlgate}"
venv="$home/venv"
shims="$home/bin"
tools="$home/uv"   # the pinned uv; outside the venv, so the cache holds only what mlgate runs with
extras="${MLGATE_EXTRAS:-all}"
installer="${MLGATE_INSTALLER:-auto}"
lock="$root/locks/$extras.txt"
stamp="$venv/.mlgate-venv-key"   # written last, so a half-finished install is never taken as ready

fail() {
  echo "::error title=mlgate setup::$*" >&2   # stderr: also seen from inside $(...)
  exit 1
}

# The venv layout (bin/, symlinked shims) is the POSIX one.
[[ "${RUNNER_OS:-}" != Windows ]] || fail "mlgate runs on Linux and macOS runners; this job runs on Windows."
[[ "$extras" == all || "$extras" == report ]] || fail "input extras must be all or report (got '$extras')."
[[ "$installer" == auto || "$installer" == pip ]] || fail "MLGATE_INSTALLER must be auto or pip (got '$installer')."

set_output() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}

venv_key() {
  command -v "$python" >/dev/null || fail "Python interpreter '$python' (input python) was not found on PATH."
  "$python" "$here/venv_key.py" "$root" "$extras" || fail "Python interpreter '$python' (input python) cannot run mlgate."
}

# True when the venv is the one for key $1 and its mlgate runs; sets $version to what `mlgate --version` says
# (`mlgate, version 1.2.3` -> 1.2.3), so that a ready venv costs one start of mlgate, not two.
venv_ready() {
  local said
  [[ -f "$stamp" && "$(<"$stamp")" == "$1" ]] && said="$("$venv/bin/mlgate" --version 2>/dev/null)" || return 1
  version="${said##* }"
}

# pip's own chatter (root user, version check, prompts) is noise in a CI log.
pip_install() {
  local python="$1"
  shift
  PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
    --quiet "$@"
}

# The pinned uv, installed by the job's own pip with hash checking; fails when uv cannot be had or run here.
bootstrap_uv() {
  if ! "$tools/bin/uv" --version >/dev/null 2>&1; then
    rm -rf "$tools"
    "$python" -c 'import pip' 2>/dev/null || return 1   # not `pip --version`: that costs a second or more
    pip_install "$python" --require-hashes --no-deps --only-binary :all: --target "$tools" -r "$root/locks/uv.txt" ||
      return 1
  fi
  "$tools/bin/uv" --version >/dev/null 2>&1
}

# uv with the package indexes pip is configured with (uv reads none of pip's configuration itself).
uv() {
  "$python" "$here/pip_index.py" "$tools/bin/uv" "$@"
}

install_with_uv() {
  "$python" -m venv --without-pip "$venv" || fail "'$python' cannot create a venv (Debian and Ubuntu: install python3-venv)."
  uv pip install --quiet --python "$venv/bin/python" --require-hashes --no-deps -r "$lock" ||
    fail "uv refused to install the packages locked in locks/$extras.txt (a hash mismatch means a downloaded file is not the one locked): see the log above."
  # --no-index: mlgate comes from the build dir, so no index settings (and no `pip config list`) are needed
  "$tools/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps --no-build-isolation --no-index "$1" ||
    fail "uv could not install mlgate into $venv: see the log above."
}

install_with_pip() {
  "$python" -m venv "$venv" || fail "'$python' cannot create a venv (Debian and Ubuntu: install python3-venv)."
  # --no-compile halves pip's install; the modules mlgate really imports are compiled on first use, inside
  # the venv, before actions/cache saves it at the end of the job.
  pip_install "$venv/bin/python" --no-compile --require-hashes --no-deps -r "$lock" ||
    fail "pip refused to install the packages locked in locks/$extras.txt (a hash mismatch means a downloaded file is not the one locked): see the log above."
  pip_install "$venv/bin/python" --no-compile --no-deps --no-build-isolation --no-index "$1" ||
    fail "pip could not install mlgate into $venv: see the log above."
}

# The installed packages' own test suites (pandas, scipy, numpy, statsmodels, scikit-learn...: ~4,800 files,
# ~77 MB of the whole stack's ~930 MB) are never imported outside those suites. Leaving them out makes every
# cache save and restore of the venv smaller; a module named tests (jinja2/tests.py) is code and stays.
prune_venv() {
  find "$venv"/lib/python3.*/site-packages -mindepth 2 -type d -name tests -prune -exec rm -rf {} +
}

build_venv() {
  local build="$home/build"
  # Build from a copy: the action's checkout must stay as it was (its contents are the cache key), and a
  # developer's src/ may hold __pycache__ or *.egg-info that must not be packaged.
  rm -rf "$build" "$venv"
  mkdir -p "$build"
  cp -R "$root/pyproject.toml" "$root/README.md" "$root/src" "$build/"
  find "$build/src" \( -name '__pycache__' -o -name '*.egg-info' \) -prune -exec rm -rf {} +
  # mlgate itself is built without build isolation, by the flit_core the lock just installed: nothing
  # unhashed is fetched, not even the build backend.
  if [[ "$installer" == auto ]] && bootstrap_uv; then
    echo "Installing mlgate into $venv: extras $extras, with $("$tools/bin/uv" --version), hashes from locks/$extras.txt"
    install_with_uv "$build"
  else
    [[ "$installer" == pip ]] || echo "::warning title=mlgate setup::uv cannot be installed or run here; installing with pip (slower, the same hash checks)."
    echo "Installing mlgate into $venv: extras $extras, with pip, hashes from locks/$extras.txt"
    install_with_pip "$build"
  fi
  rm -rf "$build"
  prune_venv
  echo "$1" >"$stamp"
}

expose() {
  mkdir -p "$shims"
  local cmd commands=(mlgate dvc)
  [[ "$extras" == all ]] || commands=(mlgate)   # the report install has no DVC
  for cmd in "${commands[@]}"; do
    ln -sfn "$venv/bin/$cmd" "$shims/$cmd"
  done
  if [[ -n "${GITHUB_PATH:-}" && ":$PATH:" != *":$shims:"* ]]; then echo "$shims" >>"$GITHUB_PATH"; fi
  # deepchecks phones home on import unless told not to; set it for the job's later steps whatever this
  # step inherited (the step's own environment says nothing about the job's).
  if [[ -n "${GITHUB_ENV:-}" ]]; then echo "DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY=1" >>"$GITHUB_ENV"; fi
}

case "${1:-install}" in
  prepare)
    key="$(venv_key)"
    set_output key "$key"
    set_output venv "$venv"
    if venv_ready "$key"; then
      set_output ready true
    else
      rm -rf "$venv"
      set_output ready false
    fi
    ;;
  install)
    key="${MLGATE_VENV_KEY:-}"   # the prepare step's, in the same job and checkout: one hashing of the sources
    [[ -n "$key" ]] || key="$(venv_key)"
    if venv_ready "$key"; then
      echo "mlgate venv at $venv is up to date ($key); skipping the install"
    else
      build_venv "$key"
      venv_ready "$key" || fail "mlgate was installed into $venv but \`mlgate --version\` does not run."
    fi
    expose
    echo "mlgate $version ready: $shims on PATH"
    set_output version "$version"
    ;;
  *)
    fail "unknown mode '$1' (expected install or prepare)"
    ;;
esac
