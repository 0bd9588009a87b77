"""Memory: what the machine (or racegate's cgroup) has available, the evidence that the OOM killer ended a run,
and the admission rule that holds a run whose expected peak would not fit (docs/scheduling.md, "Memory").

Readers take their paths from the environment so tests and users can point them at a fake: RACEGATE_CGROUP_DIR
(a cgroup directory whose memory files are read instead of racegate's own cgroup's) and RACEGATE_MEMINFO (a file
in /proc/meminfo's format). A file that is missing or unreadable means "not known", never an error: admission then
rests on what is known, and an OOM kill without evidence stays the signal it is."""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

CGROUP_ENV = "RACEGATE_CGROUP_DIR"
MEMINFO_ENV = "RACEGATE_MEMINFO"
CGROUP_ROOT = Path("/sys/fs/cgroup")
GIB = 1 << 30
# What a run of a test whose peak is not known yet is taken to need, unless a larger peak has been seen: its
# first run must not start beside others when even this little is not free.
UNKNOWN_FLOOR = 1 * GIB


@dataclass(frozen=True)
class Cgroup:
    """A cgroup's memory files, of either hierarchy: v2 (memory.max, memory.current, memory.events) or v1
    (memory.limit_in_bytes, memory.usage_in_bytes, memory.oom_control)."""

    path: Path

    @property
    def v2(self) -> bool:
        return any((self.path / name).exists() for name in ("memory.current", "memory.max", "memory.events"))

    def limit(self) -> int | None:
        """The memory limit in bytes; None when unlimited or unknown."""
        text = _read(self.path / ("memory.max" if self.v2 else "memory.limit_in_bytes"))
        if text is None or text == "max":
            return None
        value = _int(text)
        # v1 writes "unlimited" as the largest page-aligned signed 64-bit number.
        return None if value is None or value >= 1 << 62 else value

    def usage(self) -> int | None:
        return _int(_read(self.path / ("memory.current" if self.v2 else "memory.usage_in_bytes")))

    def oom_kills(self) -> int | None:
        """Processes of this cgroup (and those below it) the OOM killer has killed, as the kernel counts them."""
        return _field(self.path / ("memory.events" if self.v2 else "memory.oom_control"), "oom_kill")


def own_cgroups(proc_cgroup: Path = Path("/proc/self/cgroup"), root: Path = CGROUP_ROOT) -> list[Cgroup]:
    """The memory cgroups racegate runs in, its own first then its ancestors (a limit of any of them holds):
    RACEGATE_CGROUP_DIR's alone when set; [] at the root or without a memory controller."""
    fake = os.environ.get(CGROUP_ENV)
    if fake:
        return [Cgroup(Path(fake))]
    text = _read(proc_cgroup)
    if text is None:
        return []
    for line in text.splitlines():
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "memory":  # v1: the memory controller's own hierarchy
            base = root / "memory"
        elif controllers == "" and (root / "cgroup.controllers").exists():  # v2 mounted at the root
            base = root
        else:
            continue
        here = base / path.strip("/")
        found = []
        while here != base and base in here.parents:
            found.append(Cgroup(here))
            here = here.parent
        return found
    return []


def meminfo_available(path: Path | None = None) -> int | None:
    """MemAvailable of /proc/meminfo (or RACEGATE_MEMINFO's file) in bytes."""
    path = path or Path(os.environ.get(MEMINFO_ENV) or "/proc/meminfo")
    kib = _field(path, "MemAvailable:")
    return None if kib is None else kib * 1024


def available(cgroups: list[Cgroup], meminfo: Path | None = None) -> int | None:
    """Bytes a new process may still use: the least of the machine's MemAvailable and each limited cgroup's limit
    minus its usage; None when nothing is known."""
    known = [meminfo_available(meminfo)]
    for group in cgroups:
        limit, usage = group.limit(), group.usage()
        if limit is not None and usage is not None:
            known.append(max(0, limit - usage))
    values = [v for v in known if v is not None]
    return min(values) if values else None


def oom_kills(cgroups: list[Cgroup], vmstat: Path = Path("/proc/vmstat")) -> int | None:
    """The OOM kill count that covers racegate's runs: its own cgroup's (whose count includes kills made for an
    ancestor's limit), else the whole machine's (/proc/vmstat, readable without root, unlike dmesg)."""
    if cgroups:
        return cgroups[0].oom_kills()
    return _field(vmstat, "oom_kill")


def gib(n: int) -> str:
    return f"{n / GIB:.1f}"


class Admission:
    """Holds a worker's next run while its expected peak would not fit in what is available.

    Expected peak: the test's recorded peak (this session's, else --history's); unknown, the largest peak seen so
    far or UNKNOWN_FLOOR. What runs already use is in the available figure only as far as they have grown, so the
    expected peaks of runs in flight are taken off it whole: that counts some memory twice, which holds a run
    that might have fitted but never starts one that does not. A run with nothing in flight beside it is never
    held: holding cannot free memory, and a test that does not fit alone ends in an OOM kill that racegate
    reports as the environment's."""

    def __init__(self, peaks: dict[str, int], cgroups: list[Cgroup] | None = None, meminfo: Path | None = None,
                 say=None):
        self._peaks = dict(peaks)  # test -> bytes
        self._cgroups = own_cgroups() if cgroups is None else cgroups
        self._meminfo = meminfo
        self._say = say or (lambda line: print(line, file=sys.stderr))
        self._cond = threading.Condition()
        self._flight: dict[int, int] = {}  # token -> expected bytes
        self._next = 0
        self._said: set[str] = set()
        self._stopped = False

    def expected(self, test: str) -> int:
        with self._cond:
            return self._expected(test)

    def _expected(self, test: str) -> int:
        if test in self._peaks:
            return self._peaks[test]
        return max([UNKNOWN_FLOOR, *self._peaks.values()])

    def fits(self, need: int) -> tuple[bool, int | None]:
        """Whether a run needing `need` bytes may start now, and what is available (None: unknown)."""
        free = available(self._cgroups, self._meminfo)
        if not self._flight or free is None:
            return True, free
        return need <= free - sum(self._flight.values()), free

    def admit(self, tests: list[str], poll: float = 0.5) -> int | None:
        """Wait until a run of `tests` (one test's run, or a batch's tests in one process) fits; its token, for
        done(). None when stop() was called while it waited."""
        with self._cond:
            need = max(self._expected(t) for t in tests)
            while not self._stopped:
                ok, free = self.fits(need)
                if ok:
                    self._next += 1
                    self._flight[self._next] = need
                    return self._next
                name = tests[0] if len(tests) == 1 else f"{tests[0]} and {len(tests) - 1} more"
                if name not in self._said:
                    self._said.add(name)
                    self._say(f"racegate: memory: holding runs of {name}: needs ~{gib(need)} GiB, "
                              f"{gib(max(0, (free or 0) - sum(self._flight.values())))} GiB available")
                # Memory frees as runs end (done() wakes us) or as other processes on the machine let go of it.
                self._cond.wait(poll)
            return None

    def done(self, token: int, test: str | None = None, peak: int | None = None) -> None:
        """A run ended: its reservation is freed, and its peak (when measured) is its test's from now on."""
        with self._cond:
            self._flight.pop(token, None)
            if test is not None and peak:
                self._peaks[test] = max(peak, self._peaks.get(test, 0))
            self._cond.notify_all()

    def oom_kills(self) -> int | None:
        """The OOM kill count that covers the runs (module oom_kills)."""
        return oom_kills(self._cgroups)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _field(path: Path, key: str) -> int | None:
    """The number after `key` on its line of a `key value` file (memory.events, /proc/meminfo, /proc/vmstat)."""
    text = _read(path)
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == key:
            return _int(parts[1])
    return None
