#!/usr/bin/env bash
# The logic behind ci/github/action.yml (also used by the GitLab template): make sure a ThreadSanitizer
# toolchain is present, lower mmap entropy for old TSan runtimes, run `racegate doctor` (a failing one ends
# the job), then `racegate run`, and hand its results to the CI job. Every input arrives as an INPUT_*
# environment variable, never as script text, so a branch name or regex cannot inject shell code.
#
# Inputs (all optional): INPUT_PRESET INPUT_COMPILER INPUT_RUNS INPUT_TIME_BUDGET INPUT_JOBS INPUT_SHARD
#   INPUT_BASELINE INPUT_SUPPRESSIONS INPUT_TESTS INPUT_HISTORY INPUT_CHANGED_SINCE INPUT_OUT INPUT_GATE
#   INPUT_EXTRA_ARGS INPUT_ARTIFACT_NAME
# Overrides, for tests and unusual runners:
#   RACEGATE_BIN                 racegate executable (default: the launcher of this checkout)
#   RACEGATE_APT_GET             apt-get command used to install missing tools
#   RACEGATE_SYSCTL              sysctl command used to lower vm.mmap_rnd_bits
#   RACEGATE_MMAP_RND_BITS_FILE  where the current value is read (default /proc/sys/vm/mmap_rnd_bits)
#   RACEGATE_SUDO                command prefix for privileged steps when not root (default sudo; empty: none)
#   RACEGATE_SKIP_SETUP=1        skip installing tools and the sysctl step
# Exit status: racegate's own (0 clean, 1 races/failures, 2 usage/environment, 130 interrupted); with
# INPUT_GATE=false a 1 becomes 0 so only broken setups fail the job.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
racegate_bin="${RACEGATE_BIN:-$here/../../racegate}"

# Workflow commands are plain stdout lines on GitHub and harmless text elsewhere. Their data must have
# %, CR and LF escaped, or an input value could end the command and start another.
escape_data() {
  local s="${1//%/%25}"
  s="${s//$'\r'/%0D}"
  printf '%s' "${s//$'\n'/%0A}"
}
warn() { printf '::warning::%s\n' "$(escape_data "$*")"; }
die() {
  printf '::error::%s\n' "$(escape_data "$*")"
  exit 2
}
group() {
  if [[ -n ${GITHUB_ACTIONS:-} ]]; then printf '::group::%s\n' "$*"; else printf '== %s\n' "$*"; fi
}
endgroup() {
  if [[ -n ${GITHUB_ACTIONS:-} ]]; then printf '::endgroup::\n'; fi
}

set_output() {
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    [[ $2 != *$'\n'* ]] || die "output $1 would span lines"
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

as_root() {
  local sudo="${RACEGATE_SUDO-sudo}"
  if [[ $EUID -eq 0 || -z $sudo ]]; then
    "$@"
  else
    "$sudo" -n "$@"
  fi
}

is_true() {
  case "${1,,}" in
  true | yes | 1 | on) return 0 ;;
  false | no | 0 | off) return 1 ;;
  *) die "expected true or false, got '$1'" ;;
  esac
}

# --- inputs ---------------------------------------------------------------------------------------
preset="${INPUT_PRESET-racegate-tsan-clang}"
out="${INPUT_OUT:-racegate-out}"
gate=true
is_true "${INPUT_GATE:-true}" || gate=false

# The compiler follows the preset's suffix; an explicit contradicting choice is a usage error.
case "$preset" in
*-gcc) preset_compiler=gcc ;;
*-clang) preset_compiler=clang ;;
*) preset_compiler="" ;;
esac
compiler="${INPUT_COMPILER:-${preset_compiler:-clang}}"
case "$compiler" in
clang | gcc) ;;
*) die "compiler must be clang or gcc, got '$compiler'" ;;
esac
if [[ -n $preset_compiler && $preset_compiler != "$compiler" ]]; then
  die "compiler '$compiler' contradicts preset '$preset'; use preset racegate-tsan-$compiler or a preset inheriting racegate-tsan"
fi
if [[ -n ${INPUT_SHARD:-} && ! ${INPUT_SHARD} =~ ^[0-9]+/[0-9]+$ ]]; then
  die "shard must look like I/N, got '${INPUT_SHARD}'"
fi

# Presets that take the compiler from the environment (racegate-tsan and user presets inheriting it)
# see the chosen one; an explicit CC/CXX from the job wins.
if [[ $compiler == clang ]]; then
  export CC="${CC:-clang}" CXX="${CXX:-clang++}"
else
  export CC="${CC:-gcc}" CXX="${CXX:-g++}"
fi

# --- toolchain ------------------------------------------------------------------------------------
tsan_links() {
  local dir rc=0
  dir="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/racegate-probe.XXXXXX")"
  printf 'int main() { return 0; }\n' >"$dir/probe.cpp"
  "$CXX" -fsanitize=thread "$dir/probe.cpp" -o "$dir/probe" >/dev/null 2>&1 || rc=$?
  rm -rf "$dir"
  return "$rc"
}

apt_updated=false
apt_install() {
  local apt="${RACEGATE_APT_GET:-apt-get}"
  command -v "$apt" >/dev/null || return 1
  if [[ $apt_updated == false ]]; then
    as_root "$apt" update -qq || return 1
    apt_updated=true
  fi
  as_root env DEBIAN_FRONTEND=noninteractive "$apt" install -y -qq --no-install-recommends "$@"
}

ensure_toolchain() {
  local missing=()
  command -v python3 >/dev/null || missing+=(python3)
  command -v cmake >/dev/null || missing+=(cmake)
  command -v ninja >/dev/null || missing+=(ninja-build)
  if ((${#missing[@]})); then
    apt_install "${missing[@]}" || die "missing ${missing[*]} and could not install it; install it before this step"
  fi
  if tsan_links; then
    return 0
  fi
  # Try the compiler, then the runtime package names of the Debian/Ubuntu releases runners use.
  local candidates=() major
  if [[ $compiler == clang ]]; then
    candidates=(clang)
    if major="$("$CC" -dumpversion 2>/dev/null)"; then
      candidates+=("libclang-rt-${major%%.*}-dev")
    fi
    candidates+=(libclang-rt-dev)
  else
    candidates=(g++ libtsan2 libtsan0)
  fi
  local pkg
  for pkg in "${candidates[@]}"; do
    apt_install "$pkg" || true
    if tsan_links; then
      return 0
    fi
  done
  die "$CXX cannot link a -fsanitize=thread program (ThreadSanitizer runtime missing); install it before this step"
}

check_cmake_version() {
  local version major minor
  version="$(cmake --version | sed -n 's/^cmake version \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')"
  read -r major minor <<<"$version"
  if [[ -n ${major:-} ]] && ((major < 3 || (major == 3 && minor < 25))); then
    die "cmake ${major}.${minor} is too old for CMake presets schema 6 (needs 3.25 or newer)"
  fi
}

# TSan runtimes before LLVM 18 map shadow memory at fixed ranges and die with "FATAL: ThreadSanitizer:
# unexpected memory mapping" when the kernel randomizes mmap with more than 28 bits (Ubuntu 22.04+ kernels).
lower_mmap_entropy() {
  local file="${RACEGATE_MMAP_RND_BITS_FILE:-/proc/sys/vm/mmap_rnd_bits}" bits
  [[ -r $file ]] || return 0
  bits="$(<"$file")"
  [[ $bits =~ ^[0-9]+$ ]] || return 0
  if ((bits > 28)); then
    echo "vm.mmap_rnd_bits is $bits; lowering it to 28 for ThreadSanitizer"
    as_root "${RACEGATE_SYSCTL:-sysctl}" -w vm.mmap_rnd_bits=28 ||
      warn "could not lower vm.mmap_rnd_bits (now $bits); an older TSan runtime may fail with 'unexpected memory mapping'"
  fi
}

if [[ ${RACEGATE_SKIP_SETUP:-} != 1 ]]; then
  group "racegate: toolchain ($compiler)"
  ensure_toolchain
  [[ -z $preset ]] || check_cmake_version
  lower_mmap_entropy
  endgroup
fi

# --- doctor ---------------------------------------------------------------------------------------
# Its report goes to the log of every job; a missing runtime or an mmap setting the runtime cannot start
# under stops the job here with doctor's one-line reason, before anything is built.
doctor_args=(doctor)
[[ -z $preset ]] || doctor_args+=(--preset "$preset")
doctor_err="$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/racegate-doctor.XXXXXX")"
group "racegate doctor"
doctor_rc=0
"$racegate_bin" "${doctor_args[@]}" 2>"$doctor_err" || doctor_rc=$?
cat "$doctor_err" >&2
endgroup
doctor_reason="$(tail -n 1 "$doctor_err")"
rm -f "$doctor_err"
if ((doctor_rc != 0)); then
  die "${doctor_reason:-racegate doctor failed with status $doctor_rc}"
fi

# --- run ------------------------------------------------------------------------------------------
args=(run)
[[ -z $preset ]] || args+=(--preset "$preset")
[[ -z ${INPUT_RUNS:-} ]] || args+=(--runs "$INPUT_RUNS")
[[ -z ${INPUT_TIME_BUDGET:-} ]] || args+=(--time-budget "$INPUT_TIME_BUDGET")
[[ -z ${INPUT_JOBS:-} ]] || args+=(--jobs "$INPUT_JOBS")
[[ -z ${INPUT_SHARD:-} ]] || args+=(--shard "$INPUT_SHARD")
[[ -z ${INPUT_TESTS:-} ]] || args+=(--tests "$INPUT_TESTS")
if [[ -n ${INPUT_BASELINE:-} ]]; then
  if [[ -f $INPUT_BASELINE ]]; then
    args+=(--baseline "$INPUT_BASELINE")
  else
    warn "baseline '$INPUT_BASELINE' does not exist; every race counts as new (create it with: racegate baseline --from $out/racegate.json)"
  fi
fi
# A missing suppressions file is racegate's usage error (exit 2), unlike a baseline still to be written.
[[ -z ${INPUT_SUPPRESSIONS:-} ]] || args+=(--suppressions "$INPUT_SUPPRESSIONS")
# The history file may not exist yet (a first run, an evicted cache): racegate starts empty then.
[[ -z ${INPUT_HISTORY:-} ]] || args+=(--history "$INPUT_HISTORY")
# "auto": a pull request's base branch (GitHub sets GITHUB_BASE_REF only on pull_request events); else no focus.
changed_since=${INPUT_CHANGED_SINCE:-}
if [[ $changed_since == auto ]]; then
  changed_since=${GITHUB_BASE_REF:+origin/$GITHUB_BASE_REF}
fi
[[ -z $changed_since ]] || args+=(--changed-since "$changed_since")
args+=(--out "$out")
[[ $gate == true ]] || args+=(--no-gate)
if [[ -n ${INPUT_EXTRA_ARGS:-} ]]; then
  # Split like a shell would (quotes respected) without evaluating anything.
  mapfile -d '' -t extra < <(python3 -c 'import shlex, sys; sys.stdout.write("".join(a + "\0" for a in shlex.split(sys.argv[1])))' "$INPUT_EXTRA_ARGS")
  args+=("${extra[@]}")
fi

out_abs="$out"
[[ $out_abs == /* ]] || out_abs="$PWD/$out"
artifact="${INPUT_ARTIFACT_NAME:-racegate}"
if [[ -n ${INPUT_SHARD:-} ]]; then
  artifact="$artifact-shard-${INPUT_SHARD%/*}-of-${INPUT_SHARD#*/}"
fi
# Results left by an earlier run in a reused workspace must not be published as this run's.
rm -f "$out_abs/racegate.json" "$out_abs/racegate.sarif"
set_output out-dir "$out_abs"
set_output artifact-name "$artifact"

summary_before=-1
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  summary_before="$(wc -c <"$GITHUB_STEP_SUMMARY" 2>/dev/null || echo 0)"
fi

printf '+ racegate'
printf ' %q' "${args[@]}"
printf '\n'
rc=0
"$racegate_bin" "${args[@]}" || rc=$?

set_output exit-code "$rc"
[[ ! -f $out_abs/racegate.json ]] || set_output result "$out_abs/racegate.json"
[[ ! -f $out_abs/racegate.sarif ]] || set_output sarif-file "$out_abs/racegate.sarif"
[[ -z ${INPUT_HISTORY:-} || ! -f $INPUT_HISTORY ]] || set_output history-file "$INPUT_HISTORY"

# racegate writes the job summary itself; say something when it stopped before it could.
if [[ $summary_before != -1 && "$(wc -c <"$GITHUB_STEP_SUMMARY" 2>/dev/null || echo 0)" == "$summary_before" ]]; then
  printf '### racegate\n\nracegate exited with status %s before writing a summary; see the job log.\n' "$rc" >>"$GITHUB_STEP_SUMMARY"
fi

if [[ $gate == false && $rc == 1 ]]; then
  exit 0
fi
exit "$rc"
