"""The C++ compilers on this machine (or the one a build names) and what each does with a ThreadSanitizer program:
whether it links one, and whether that program starts under this kernel's memory layout. What `racegate doctor`
reports on, and what the preflight of `racegate run` checks before it builds.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from racegate.analyse import UNEXPECTED_MAPPING
from racegate.build import NO_RUNTIME

SAFE_MMAP_BITS = 28
# LLVM 18+ runtimes start under up to 30 bits as they are, and above that re-exec without ASLR.
NEW_RUNTIME_MMAP_BITS = 30
# What a runtime prints when the kernel's layout does not fit: old runtimes, and new ones whose re-exec
# without ASLR a sandbox refused (the CHECK message before LLVM 21, the FATAL one after).
_LAYOUT_DEATHS = (UNEXPECTED_MAPPING, "unable to disable ASLR", "personality(old_personality | ADDR_NO_RANDOMIZE)")
_PROBE = "int main() { return 0; }\n"


@dataclass(frozen=True)
class Compiler:
    """A C++ compiler and what a -fsanitize=thread probe program did with it."""
    command: str
    family: str  # "gcc" or "clang"
    version: str
    links: bool
    error: str = ""  # first line of the link errors
    mapping_error: bool = False  # the probe died with "unexpected memory mapping"
    found: bool = True  # False: the command does not run at all
    start_error: str = ""  # the probe linked but exited non-zero for another reason: its first line

    @property
    def major(self) -> int:
        match = re.match(r"\d+", self.version)
        return int(match.group()) if match else 0

    @property
    def label(self) -> str:
        return f"{self.command} {self.version}".strip()

    @property
    def package(self) -> str:
        """The Debian/Ubuntu package that ships this compiler's TSan runtime."""
        if self.family == "clang":
            return f"libclang-rt-{self.major}-dev" if self.major else "libclang-rt-dev"
        return "libtsan2" if self.major >= 12 or not self.major else "libtsan0"

    @property
    def max_mmap_bits(self) -> int | None:
        """The highest vm.mmap_rnd_bits this runtime starts under, None when it copes with any.
        LLVM 18 taught TSan to re-exec itself without ASLR when the mapping does not fit; GCC up to 14
        imported its libsanitizer from LLVM before that."""
        old = self.major < 18 if self.family == "clang" else self.major < 15
        return SAFE_MMAP_BITS if old else None


def probe(command: str) -> Compiler:
    """Identify `command`, then compile, link and start a -fsanitize=thread program with it."""
    try:
        version_text = subprocess.run([command, "--version"], capture_output=True, text=True,
                                      errors="replace", timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Compiler(command, "gcc", "", False, f"cannot run it: {exc}", found=False)
    family = "clang" if "clang" in version_text.lower() else "gcc"
    version = _compiler_version(command, family, version_text)
    with tempfile.TemporaryDirectory(prefix="racegate-doctor-") as tmp:
        source, exe = Path(tmp) / "probe.cpp", Path(tmp) / "probe"
        source.write_text(_PROBE)
        try:
            link = subprocess.run([command, "-fsanitize=thread", str(source), "-o", str(exe)],
                                  capture_output=True, text=True, errors="replace", timeout=300)
        except subprocess.TimeoutExpired:
            return Compiler(command, family, version, False, "compiling a one-line program took over 300 s")
        if link.returncode != 0:
            # The line naming the missing runtime says more than the linker's closing "error" line.
            lines = link.stderr.splitlines()
            errors = [line for line in lines if NO_RUNTIME.search(line)] or \
                [line for line in lines if "error" in line.lower()] or lines or ["link failed"]
            return Compiler(command, family, version, False, errors[0].strip())
        try:
            started = subprocess.run([str(exe)], capture_output=True, text=True, errors="replace", timeout=60)
        except subprocess.TimeoutExpired:
            return Compiler(command, family, version, False, "the probe program did not exit within 60 s")
    layout_death = any(death in started.stderr for death in _LAYOUT_DEATHS)
    start_error = ""
    if started.returncode != 0 and not layout_death:
        start_error = (started.stderr.strip().splitlines() or [f"exit status {started.returncode}"])[0]
    return Compiler(command, family, version, True, mapping_error=layout_death, start_error=start_error)


def _compiler_version(command: str, family: str, version_text: str) -> str:
    if family == "gcc":
        # -dumpfullversion is gcc's full "12.2.0"; plain -dumpversion may print only "12".
        proc = subprocess.run([command, "-dumpfullversion", "-dumpversion"], capture_output=True, text=True,
                              timeout=60)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    match = re.search(r"version (\d+[\d.]*)", version_text) or re.search(r"(\d+\.\d+[\d.]*)", version_text)
    return match.group(1) if match else ""


def found_compilers() -> list[str]:
    """$CXX, g++ and clang++ as found on PATH, each binary once."""
    seen: set[str] = set()
    found: list[str] = []
    for name in (os.environ.get("CXX"), "g++", "clang++"):
        path = shutil.which(name) if name else None
        if name and path and os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            found.append(name)
    return found
