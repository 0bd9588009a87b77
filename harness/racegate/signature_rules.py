"""The rules of each signature version, as data, and the bucket id they give a (kind, signature): what
signature.py signs reports by, and what the model names a finding's bucket with (docs/contract.md, "Signature
rules"). A leaf: the model and the planner read the versions without the signing code.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Mapping


@dataclass(frozen=True)
class SignatureRules:
    version: int
    # Allocation and deallocation functions and the libc functions TSan intercepts never name a side (a runtime
    # without debug info prints them with the test binary as their module and no file).
    skip_allocation: bool
    # In an inline chain, never move out to a frame whose name says nothing of the code: a lambda's operator()
    # or a test framework's generated test body (numbered, so a test added above it would change the id).
    skip_generic_callers: bool
    # Kinds folded together for bucket ids: the finding keeps TSan's own kind string.
    id_families: Mapping[str, str]
    # GoogleTest's TestBody names its test through its generated class (`Suite_Name_Test::TestBody`): it is virtual,
    # so never inlined, and every compiler prints it qualified.
    qualify_test_body: bool = False
    # A report whose sides are all generic names (lambda vs lambda) adds the racing memory: a global's name or the
    # allocating side of a heap block, so races of different lambdas of one file on different data are apart.
    locate_generic_sides: bool = False
    # A project's allocator wrapper (the frame right under malloc/free/new/delete with an allocator's name, e.g.
    # lib_free) is skipped like the allocator: it says nothing of the bug and is shared by every caller.
    skip_allocator_wrappers: bool = False
    # A report that names no side of the program is keyed on what it has (the test, the memory, where its thread or
    # mutex was made), and a partial report (a side TSan could not restore, a report cut short) says so in its
    # signature and folds into its full report's bucket (bucket.py); never an empty signature.
    anchor_sideless: bool = False
    # A race between one function and itself (every side the same key) adds the racing memory, as generic sides do:
    # one function racing on two globals is two bugs (field test #23). Only where each side touches the memory in
    # its own code: a self race inside a container's code names the container's globals and heap blocks by turns.
    locate_self_races: bool = False
    # A frame without a file is the project's when its module holds a project frame of the same report (the test's
    # own executable, a project library) and its name is nobody else's: gcc printed a header-only class's members
    # with `<null>` files in the test binary, and the side fell to each calling test (field test #26).
    fileless_project_frames: bool = False
    # A failure whose message names the function it failed in (glibc's and musl's assert()) is keyed on that function
    # too, beside its file and expression: every `assert (rc == 0)` of one test file was one bucket (field test #42),
    # and the function, unlike the line, does not move when an edit above it shifts the file.
    key_failures_on_function: bool = False


V1 = SignatureRules(1, skip_allocation=False, skip_generic_callers=False, id_families={
    # clang reports a vptr race or a virtual call after free where gcc reports the plain kind.
    "data race on vptr (ctor/dtor vs virtual call)": "data race",
    "heap-use-after-free (virtual call vs free)": "heap-use-after-free",
})
# Version 2: a lifetime bug is one bucket whether TSan saw the use after the free (heap-use-after-free) or the
# two accesses unordered (data race): both name the same pair of project frames.
V2 = SignatureRules(2, skip_allocation=True, skip_generic_callers=True, id_families={
    "data race on vptr (ctor/dtor vs virtual call)": "data race",
    "heap-use-after-free": "data race",
    "heap-use-after-free (virtual call vs free)": "data race",
})
# Version 3: a test body keeps its test's name, and a report of generic sides only is told apart by its memory.
V3 = SignatureRules(3, skip_allocation=True, skip_generic_callers=True, id_families=V2.id_families,
                    qualify_test_body=True, locate_generic_sides=True)
# Version 4: allocator wrappers are skipped; reports without a project side, and partial ones, are keyed on what
# they have, never on nothing.
V4 = replace(V3, version=4, skip_allocator_wrappers=True, anchor_sideless=True)
# Version 5: a self race is told apart by its memory; fileless frames of the project's own modules name sides.
V5 = replace(V4, version=5, locate_self_races=True, fileless_project_frames=True)
# Version 6: a failed assert() is keyed on the function its message names.
V6 = replace(V5, version=6, key_failures_on_function=True)
CURRENT = V6
SIGNATURE_VERSION = CURRENT.version
# Findings carry their ids under these too: baselines of earlier releases (0.1.0: v1, then v2 to v5) hold them.
LEGACY = (V1, V2, V3, V4, V5)


def kind_family(kind: str, rules: SignatureRules = CURRENT) -> str:
    """The kind as bucket ids see it: kinds that only say how TSan noticed a bug are one family."""
    return rules.id_families.get(kind, kind)


def bucket_id(kind: str, signature: list[str], rules: SignatureRules = CURRENT) -> str:
    """16 hex digits naming the bucket of (kind, signature) under a signature version."""
    payload = "\n".join([f"racegate-signature-v{rules.version}", kind_family(kind, rules), *signature])
    return hashlib.sha256(payload.encode("utf-8", "replace")).hexdigest()[:16]
