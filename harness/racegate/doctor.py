"""`racegate doctor`: what on this machine (and in a build) stops ThreadSanitizer runs or weakens them.

Each check is a small function returning Check lines; a failing line carries its fix. `preflight` runs the
cheap checks that would make `racegate run` fail, before it builds anything.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from racegate import discover
from racegate.build import (PRESETS_FILES, WERROR_TSAN_FIX, binary_dir_of, cache_value, find_build_preset, tree_top,
                            uses_tsan)
from racegate.compilers import NEW_RUNTIME_MMAP_BITS, SAFE_MMAP_BITS, Compiler, found_compilers, probe
from racegate.elf import dynamic_imports, is_elf, loaded_libraries, tsan_instrumented
from racegate.errors import RacegateError
from racegate.failure import signal_name

OK, INFO, WARN, FAIL = "ok", "info", "warn", "FAIL"
# Tests point this at a file of their own; run.sh reads the same variable.
MMAP_BITS_ENV = "RACEGATE_MMAP_RND_BITS_FILE"
MMAP_BITS_FILE = "/proc/sys/vm/mmap_rnd_bits"
_ADDR_NO_RANDOMIZE = 0x0040000
# Libraries that are the sanitizer runtime or the C/C++ runtime: never instrumented, and TSan intercepts
# or models what matters in them. The exception, libanl's getaddrinfo_a (its resolver thread), has a check of
# its own: check_resolver_thread.
_RUNTIME_LIBS = re.compile(r"^(ld-linux|linux-vdso|linux-gate|libc\.|libm\.|libmvec\.|libpthread\.|libdl\.|"
                           r"librt\.|libutil\.|libresolv\.|libanl\.|libstdc\+\+\.|libgcc_s\.|libatomic\.|libtsan\.|"
                           r"libclang_rt\.|libc\+\+\.|libc\+\+abi\.|libunwind\.)")


@dataclass(frozen=True)
class Check:
    status: str  # OK, INFO, WARN (works, but weaker) or FAIL (a run cannot work)
    name: str
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"{self.status:<5} {self.name}: {self.detail}"]
        if self.fix:
            out.append(f"      fix: {self.fix}")
        return out


# --- checks ---------------------------------------------------------------------------------------

def check_runtimes(compilers: list[Compiler], required: bool) -> list[Check]:
    """One line per compiler. A missing runtime fails when the run needs that compiler (`required`) or
    when no compiler found has one."""
    if not compilers:
        return [Check(FAIL, "compiler", "no C++ compiler found (looked for $CXX, g++, clang++)",
                      "apt-get install clang libclang-rt-dev (or g++ libtsan2)")]
    any_links = any(c.links for c in compilers)
    checks = []
    for c in compilers:
        if not c.found:
            checks.append(Check(FAIL, c.command, c.error, "install it, or point CMAKE_CXX_COMPILER (or CXX) at "
                                "an installed compiler"))
        elif c.start_error:
            checks.append(Check(FAIL, c.label, f"a -fsanitize=thread program links but does not start: "
                                f"{c.start_error}", "that is TSan's own message: check TSAN_OPTIONS (e.g. a "
                                "suppressions file that is not there), which every test run gets too"))
        elif c.links:
            checks.append(Check(OK, c.label, f"ThreadSanitizer runtime links and starts (package {c.package})"))
        else:
            status = FAIL if required or not any_links else WARN
            checks.append(Check(status, c.label, f"cannot link a -fsanitize=thread program: {c.error}",
                                f"apt-get install {c.package}"))
    return checks


def check_symbolizer() -> list[Check]:
    path = shutil.which("llvm-symbolizer")
    if path:
        return [Check(OK, "llvm-symbolizer", path)]
    return [Check(WARN, "llvm-symbolizer", "not on PATH: TSan reports have fewer function names and "
                  "source lines, so races bucket by address", "apt-get install llvm")]


def mmap_bits_file() -> Path:
    return Path(os.environ.get(MMAP_BITS_ENV) or MMAP_BITS_FILE)


def check_mmap_bits(compilers: list[Compiler], bits_file: Path | None = None,
                    personality_allowed: bool = True) -> list[Check]:
    """vm.mmap_rnd_bits against the runtimes that link: older ones die at start above 28; newer ones
    above 30 re-exec without ASLR, which needs personality()."""
    bits_file = bits_file or mmap_bits_file()
    fix = f"sysctl -w vm.mmap_rnd_bits={SAFE_MMAP_BITS} (as root; on the host for a container runner)"
    died = [c.label for c in compilers if c.mapping_error]
    if died:
        return [Check(FAIL, "vm.mmap_rnd_bits", f"a TSan program built with {', '.join(died)} died at start "
                      "because the memory layout did not fit (\"unexpected memory mapping\" or no ASLR re-exec)",
                      fix)]
    try:
        bits = int(bits_file.read_text().strip())
    except (OSError, ValueError) as exc:
        return [Check(INFO, "vm.mmap_rnd_bits", f"cannot read {bits_file} ({exc}); not checked")]
    linked = [c for c in compilers if c.links]
    too_many = [c for c in linked if c.max_mmap_bits is not None and bits > c.max_mmap_bits]
    if too_many:
        return [Check(FAIL, "vm.mmap_rnd_bits", f"{bits}, but the TSan runtime of "
                      f"{', '.join(c.label for c in too_many)} dies with \"unexpected memory mapping\" above "
                      f"{SAFE_MMAP_BITS}", fix)]
    stuck = [c for c in linked if c.max_mmap_bits is None and bits > NEW_RUNTIME_MMAP_BITS]
    if stuck and not personality_allowed:
        return [Check(FAIL, "vm.mmap_rnd_bits", f"{bits}: the TSan runtime of {', '.join(c.label for c in stuck)} "
                      "must re-exec itself without ASLR above 30, and this sandbox refuses personality()", fix)]
    return [Check(OK, "vm.mmap_rnd_bits", f"{bits} (the runtimes found start under it)")]


def check_sched_fifo() -> list[Check]:
    """pct gives threads SCHED_FIFO priorities; without permission the shim falls back to noise+pin."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except PermissionError:
        return [Check(INFO, "SCHED_FIFO", "not allowed: the pct schedule falls back to noise+pin (not an error; "
                      "for real pct give the runner CAP_SYS_NICE or a real-time priority limit, ulimit -r)")]
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return [Check(OK, "SCHED_FIFO", "allowed: the pct schedule uses real priorities")]


def personality_refusal() -> str | None:
    """Why personality(ADDR_NO_RANDOMIZE) fails here (a seccomp filter, in containers), None when it works.
    Newer TSan runtimes call it to re-exec themselves when the memory layout does not fit."""
    # In a child: disabling ASLR in racegate itself would carry over to every test it starts.
    code = ("import ctypes, os, sys\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "current = libc.personality(0xffffffff)\n"
            f"ok = current != -1 and libc.personality(current | {_ADDR_NO_RANDOMIZE}) != -1\n"
            "sys.exit(0 if ok else os.strerror(ctypes.get_errno()))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return None if proc.returncode == 0 else (proc.stderr.strip() or f"exit status {proc.returncode}")


def check_sandbox(refusal: str | None, status_file: Path = Path("/proc/self/status")) -> list[Check]:
    seccomp = re.search(r"^Seccomp:\s*(\d+)", status_file.read_text(), re.MULTILINE)
    mode = {"0": "no seccomp filter", "1": "seccomp strict mode", "2": "a seccomp filter (container sandbox)"}.get(
        seccomp.group(1) if seccomp else "", "seccomp state unknown")
    if refusal is None:
        return [Check(OK, "sandbox", f"{mode}; personality(ADDR_NO_RANDOMIZE) allowed")]
    return [Check(WARN, "sandbox", f"{mode}; personality(ADDR_NO_RANDOMIZE) refused ({refusal}): "
                  "a TSan runtime that re-execs itself without ASLR cannot",
                  f"allow personality in the container's seccomp profile, or keep vm.mmap_rnd_bits at "
                  f"{SAFE_MMAP_BITS} so TSan never needs the re-exec")]


def check_uninstrumented(build_dir: Path, compiler: str | None = None) -> list[Check]:
    """Shared libraries the test executables load that have no __tsan_ imports: races inside them are
    invisible, and their synchronization unseen (false reports). Then what the executables call that crashes
    under TSan (check_resolver_thread, which tries it with `compiler`)."""
    checks = []
    if not uses_tsan(build_dir):
        # Flags added per target do not show in the cache: a warning, as `racegate run` gives.
        checks.append(Check(WARN, "build", f"{build_dir}: no -fsanitize=thread in the cached compile flags; "
                            "without it only failures, crashes and hangs can be found",
                            "configure it with a racegate-tsan preset (or -fsanitize=thread in CMAKE_CXX_FLAGS "
                            "and CMAKE_EXE_LINKER_FLAGS)"))
    try:
        tests = discover.discover(build_dir)
    except RacegateError as exc:  # e.g. no tests in it, or ctest cannot list them
        return checks + [Check(FAIL, "build", str(exc), "configure and build it (cmake --preset, cmake --build)")]
    # Tests whose executable was not built have nothing to check (`racegate run` lists them as not run).
    missing = [reason for reason in map(discover.missing_executable, tests) if reason]
    if missing:
        checks.append(Check(INFO, "build", f"{len(missing)} of {len(tests)} tests are not built, e.g. {missing[0]}; "
                            "racegate run lists them as not run"))
    executables = sorted({t.command[0] for t in tests
                          if discover.missing_executable(t) is None and is_elf(Path(t.command[0]))})
    if not executables:
        return checks + [Check(INFO, "libraries", f"no test executable in {build_dir} to look into")]
    return checks + _library_checks(executables) + check_resolver_thread(executables, compiler)


def _library_checks(executables: list[str]) -> list[Check]:
    loaded_by: dict[str, list[str]] = {}
    for exe in executables:
        for lib in loaded_libraries(exe):
            if not _RUNTIME_LIBS.match(os.path.basename(lib)):
                loaded_by.setdefault(lib, []).append(os.path.basename(exe))
    plain = {lib: exes for lib, exes in loaded_by.items() if not tsan_instrumented(Path(lib))}
    if not plain:
        return [Check(OK, "libraries", f"the {len(executables)} test executables load no uninstrumented "
                      "library besides the TSan and C/C++ runtimes")]
    fix = ("build it with -fsanitize=thread, or run with TSAN_OPTIONS=ignore_noninstrumented_modules=1 "
           "(then races inside it go unreported)")
    return [Check(WARN, "library", f"{lib} is not TSan-instrumented (loaded by {', '.join(sorted(exes))})", fix)
            for lib, exes in sorted(plain.items())]


# glibc's asynchronous name lookup starts its resolver thread itself, past TSan's pthread_create interceptor; on
# glibc 2.36 with clang 14 and gcc 12 that thread crashes in TSan's malloc on every run, with no report (the
# cpp-httplib field test: every test that resolved a name crashed). Tried on this machine when a test calls it.
RESOLVER_FUNCTION = "getaddrinfo_a"
_RESOLVER_PROBE = ("#include <netdb.h>\n#include <cstring>\nint main() {\n  gaicb request;\n"
                   "  std::memset(&request, 0, sizeof request);\n  request.ar_name = \"localhost\";\n"
                   "  gaicb* requests[] = {&request};\n  return getaddrinfo_a(GAI_WAIT, requests, 1, nullptr);\n}\n")


def check_resolver_thread(executables: list[str], compiler: str | None) -> list[Check]:
    """Test executables that call getaddrinfo_a, and whether a TSan program that calls it survives here."""
    users = sorted(os.path.basename(exe) for exe in executables if RESOLVER_FUNCTION in dynamic_imports(Path(exe)))
    if not users:
        return []
    named = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
    calls = f"{named} call{'s' if len(users) == 1 else ''} {RESOLVER_FUNCTION}"
    killed_by, untried = (_try_resolver(compiler) if compiler
                          else (None, "no compiler that links TSan programs to try it with"))
    if killed_by:
        return [Check(WARN, RESOLVER_FUNCTION, f"{calls}, and a TSan program that calls it is killed by {killed_by} "
                      "here: glibc starts the resolver thread out of TSan's sight and the thread crashes in TSan's "
                      "runtime, so every test that looks a name up this way crashes, plain runs too, with no report",
                      "turn the asynchronous name lookup off in the TSan build (cpp-httplib: "
                      "-DHTTPLIB_USE_NON_BLOCKING_GETADDRINFO=OFF), or leave those tests out of the TSan run (-E)")]
    if not untried:
        return [Check(OK, RESOLVER_FUNCTION, f"{calls}, which a TSan program runs here without crashing")]
    return [Check(INFO, RESOLVER_FUNCTION, f"{calls}, whose resolver thread crashed every TSan run on glibc 2.36; "
                  f"not tried here: {untried}")]


def _try_resolver(compiler: str) -> tuple[str | None, str]:
    """Build and run a TSan program that calls getaddrinfo_a: (the signal that killed it, or None; why it could
    not be tried, or "")."""
    with tempfile.TemporaryDirectory(prefix="racegate-doctor-") as tmp:
        source, exe = Path(tmp) / "resolver.cpp", Path(tmp) / "resolver"
        source.write_text(_RESOLVER_PROBE)
        try:
            # -lanl: before glibc 2.34 getaddrinfo_a lives there; later its stub is still there to link.
            link = subprocess.run([compiler, "-fsanitize=thread", "-pthread", str(source), "-o", str(exe), "-lanl"],
                                  capture_output=True, text=True, errors="replace", timeout=300)
            if link.returncode != 0:
                return None, f"{compiler} could not build a program that calls it"
            ran = subprocess.run([str(exe)], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"trying it failed ({exc})"
    return (signal_name(-ran.returncode) if ran.returncode < 0 else None), ""


_FENCE_WARNING = re.compile(r"\[-Wtsan\]|atomic_thread_fence.*(?:sanitize|tsan)", re.IGNORECASE)


def check_build_log(log: Path | None) -> list[Check]:
    """GCC's -Wtsan: TSan does not model atomic_thread_fence, so orderings built on fences look like races."""
    if log is None or not log.is_file():
        return [Check(INFO, "build log", "none to read (pass --build-log FILE; `racegate run --preset` writes "
                      "racegate-out/build.log)")]
    hits = [line.strip() for line in log.read_text(errors="replace").splitlines() if _FENCE_WARNING.search(line)]
    if not hits:
        return [Check(OK, "build log", f"{log}: no -Wtsan or atomic_thread_fence warning")]
    return [Check(WARN, "build log", f"{log}: {len(hits)} -Wtsan/atomic_thread_fence warnings, first: {hits[0]}",
                  "TSan ignores fences: order with atomic operations instead (acquire/release loads and "
                  "stores), or expect false reports there. Under -Werror: " + WERROR_TSAN_FIX)]


def check_versions(compilers: list[Compiler]) -> list[Check]:
    cmake = shutil.which("cmake")
    cmake_version = "not found"
    if cmake:
        out = subprocess.run([cmake, "--version"], capture_output=True, text=True, timeout=60).stdout
        cmake_version = (out.splitlines() or ["?"])[0].replace("cmake version ", "")
    parts = [f"cmake {cmake_version}"] + [f"{c.label} ({c.family})" for c in compilers]
    return [Check(INFO, "versions", ", ".join(parts))]


# --- where the build is ---------------------------------------------------------------------------

def preset_variables(source_dir: Path, preset: str) -> str:
    """The cache variables a configure preset sets, as `cmake --preset P -N` prints them (without
    configuring anything)."""
    proc = subprocess.run(["cmake", "--preset", _configure_preset(source_dir, preset), "-N"], cwd=source_dir,
                          capture_output=True, text=True, errors="replace", timeout=60)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["cmake failed"])[0]
        raise RacegateError(f"preset {preset!r} in {source_dir}: {first}")
    return proc.stdout


def preset_compiler(variables: str) -> str | None:
    """The C++ compiler the preset names, else the $CXX CMake would take."""
    match = re.search(r'^\s*CMAKE_CXX_COMPILER="([^"]*)"', variables, re.MULTILINE)
    return match.group(1) if match else os.environ.get("CXX")


def _configure_preset(source_dir: Path, preset: str) -> str:
    """A build preset's name stands for its configure preset, as in `racegate run --preset`."""
    build = find_build_preset(source_dir, preset)
    return build.configure_preset if build else preset


def preset_build_dir(source_dir: Path, preset: str) -> Path | None:
    """The binaryDir of a configure preset (following inherits and includes), when it uses only the
    macros ${sourceDir}, ${sourceParentDir}, ${sourceDirName} and ${presetName}."""
    # The same guess `run --preset` makes to ask for the codemodel before configuring (build.binary_dir_of): a
    # binaryDir with other macros is left to cmake, and no dir checked.
    return binary_dir_of(source_dir, _configure_preset(source_dir, preset))


# --- entry points ---------------------------------------------------------------------------------

def diagnose(source_dir: Path, preset: str | None, build_dir: Path | None, build_log: Path | None) -> list[Check]:
    """Every check, in the order `racegate doctor` prints them."""
    wanted = None  # the compiler the run needs, when a preset or build dir says
    if preset:
        wanted = preset_compiler(preset_variables(source_dir, preset))
        build_dir = build_dir or preset_build_dir(source_dir, preset)
    if build_dir and tree_top(build_dir):
        wanted = cache_value(build_dir, "CMAKE_CXX_COMPILER") or wanted
    names = [wanted] if wanted else found_compilers()
    compilers = [probe(name) for name in names]
    checks = check_runtimes(compilers, required=bool(wanted))
    refusal = personality_refusal()
    checks += check_symbolizer() + check_mmap_bits(compilers, personality_allowed=refusal is None)
    checks += check_sched_fifo() + check_sandbox(refusal)
    if build_dir and discover.testing_roots(build_dir):
        checks += check_uninstrumented(build_dir, next((c.command for c in compilers if c.links), None))
    elif build_dir or preset:
        where = build_dir or f"preset {preset}"
        checks.append(Check(INFO, "libraries", f"{where} is not built yet: build it (racegate run --preset) "
                            "and run doctor again to check the libraries its tests load"))
    default_log = Path("racegate-out") / "build.log"
    checks += check_build_log(build_log or (default_log if default_log.is_file() else None))
    checks += check_versions(compilers)
    return checks


def summary_error(checks: list[Check]) -> str | None:
    """The one-line error for a failed doctor, None when nothing needed for a run is missing."""
    failed = [c for c in checks if c.status == FAIL]
    if not failed:
        return None
    first = failed[0]
    more = f" (and {len(failed) - 1} more above)" if len(failed) > 1 else ""
    return f"doctor: {first.name}: {first.detail}; fix: {first.fix}{more}"


def preflight(source_dir: Path, preset: str | None, build_dir: Path | None) -> None:
    """Before `racegate run` builds: the build's compiler must link TSan programs and its runtime must
    start under this kernel's vm.mmap_rnd_bits. Raises RacegateError with the fix otherwise."""
    # Only builds that ask for TSan: a plain build runs without the runtime (racegate warns about it later).
    if build_dir and tree_top(build_dir):
        command = cache_value(build_dir, "CMAKE_CXX_COMPILER") if uses_tsan(build_dir) else None
    elif preset and any((source_dir / f).is_file() for f in PRESETS_FILES):
        variables = preset_variables(source_dir, preset)
        command = preset_compiler(variables) if "-fsanitize=thread" in variables else None
    else:
        return  # `-- CMD`, or no presets: the build step says what is wrong
    if not command:
        return
    compiler = probe(command)
    if not compiler.found:
        return  # configuring says that the compiler is missing, with CMake's own words
    if not compiler.links:
        raise RacegateError(f"{compiler.label} has no ThreadSanitizer runtime: {compiler.error}; "
                            f"fix: apt-get install {compiler.package} (racegate doctor checks the rest)")
    if compiler.start_error:
        raise RacegateError(f"a ThreadSanitizer program built with {compiler.label} does not start: "
                            f"{compiler.start_error} (check TSAN_OPTIONS)")
    failed = [c for c in check_mmap_bits([compiler]) if c.status == FAIL]
    if failed:
        raise RacegateError(f"vm.mmap_rnd_bits: {failed[0].detail}; fix: {failed[0].fix}")
