"""ELF files as the doctor looks into a build's test executables: whether a file is one, the shared libraries it
loads (as the dynamic loader resolves them) and the symbols it imports (a TSan-instrumented one imports __tsan_*).
"""
from __future__ import annotations

import mmap
import re
import struct
import subprocess
from pathlib import Path


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def loaded_libraries(exe: str) -> list[str]:
    """The resolved paths of the shared libraries `exe` loads, as the dynamic loader finds them."""
    proc = subprocess.run(["ldd", exe], capture_output=True, text=True, errors="replace", timeout=60)
    return re.findall(r"=>\s*(/\S+)\s+\(", proc.stdout)


def tsan_instrumented(path: Path) -> bool:
    """Whether the ELF file imports __tsan_* symbols (undefined in its dynamic symbol table)."""
    return any(name.startswith("__tsan_") for name in dynamic_imports(path))


def dynamic_imports(path: Path) -> set[str]:
    """The symbols an ELF file imports: the undefined ones in its dynamic symbol table (none for another file)."""
    imported: set[str] = set()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != b"\x7fELF":
            return imported
        is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
        if is64:
            (shoff,) = struct.unpack_from(order + "Q", data, 0x28)
            shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
            header, sym_shndx = order + "IIQQQQIIQQ", 6
        else:
            (shoff,) = struct.unpack_from(order + "I", data, 0x20)
            shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
            header, sym_shndx = order + "IIIIIIIIII", 14
        # (type, offset, size, link, entsize) of each section
        sections = [struct.unpack_from(header, data, shoff + i * shentsize) for i in range(shnum)]
        sections = [(s[1], s[4], s[5], s[6], s[9]) for s in sections]
        for kind, offset, size, link, entsize in sections:
            if kind != 11 or not entsize:  # SHT_DYNSYM
                continue
            strings = sections[link][1]
            for sym in range(offset, offset + size, entsize):
                (name,) = struct.unpack_from(order + "I", data, sym)
                (shndx,) = struct.unpack_from(order + "H", data, sym + sym_shndx)
                if shndx == 0 and name:
                    start = strings + name
                    imported.add(data[start:data.find(b"\0", start)].decode("ascii", "replace"))
    return imported
