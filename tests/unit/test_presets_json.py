"""The preset file's contract (docs/contract.md section 1), checked on the JSON and with cmake itself."""
from __future__ import annotations

import json
import re

from samples_helpers import PRESETS_FILE

PRESETS = json.loads(PRESETS_FILE.read_text())
KINDS = ("configurePresets", "buildPresets", "testPresets", "workflowPresets")
TSAN_FLAGS = ("-fsanitize=thread", "-g", "-O1", "-fno-omit-frame-pointer")


def by_name(kind: str) -> dict[str, dict]:
    return {p["name"]: p for p in PRESETS.get(kind, [])}


def test_schema_version_and_names() -> None:
    assert PRESETS["version"] == 6
    for kind in KINDS:
        assert PRESETS[kind], kind
        for preset in PRESETS[kind]:
            assert preset["name"].startswith("racegate-"), preset["name"]
    for kind in KINDS:
        assert {"racegate-tsan", "racegate-tsan-clang", "racegate-tsan-gcc"} <= set(by_name(kind)), kind


def test_no_filedir_and_binary_dir_under_source_build() -> None:
    assert "${fileDir}" not in PRESETS_FILE.read_text()
    base = by_name("configurePresets")["racegate-base"]
    assert base["hidden"] is True
    assert base["binaryDir"] == "${sourceDir}/build/${presetName}"


def test_flags_on_every_compile_and_link_line() -> None:
    cache = by_name("configurePresets")["racegate-base"]["cacheVariables"]
    for var in ("CMAKE_C_FLAGS", "CMAKE_CXX_FLAGS"):
        assert cache[var].split() == list(TSAN_FLAGS)
    for var in ("CMAKE_EXE_LINKER_FLAGS", "CMAKE_SHARED_LINKER_FLAGS", "CMAKE_MODULE_LINKER_FLAGS"):
        assert "-fsanitize=thread" in cache[var].split()
    # the build type's own flags must not undo -O1 (RelWithDebInfo defaults to -O2 -DNDEBUG)
    for var in ("CMAKE_C_FLAGS_RELWITHDEBINFO", "CMAKE_CXX_FLAGS_RELWITHDEBINFO"):
        assert not re.search(r"-O[02s3]", cache[var])
    assert cache["CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE"] == "PRE_TEST"


def test_gcc_preset_flags_are_the_base_flags_plus_wno_error_tsan() -> None:
    # A preset cannot append to an inherited variable, so racegate-tsan-gcc restates the base's flags; this
    # keeps the two in step. Only gcc gets the flag: clang under -Werror rejects it as an unknown warning.
    configure = by_name("configurePresets")
    base = configure["racegate-base"]["cacheVariables"]
    gcc = configure["racegate-tsan-gcc"]["cacheVariables"]
    for var in ("CMAKE_C_FLAGS", "CMAKE_CXX_FLAGS"):
        assert gcc[var].split() == base[var].split() + ["-Wno-error=tsan"], var
    for name, preset in configure.items():
        if name not in ("racegate-base", "racegate-tsan-gcc"):
            overridden = {"CMAKE_C_FLAGS", "CMAKE_CXX_FLAGS"} & set(preset.get("cacheVariables", {}))
            assert not overridden, (name, overridden)


def test_compilers() -> None:
    configure = by_name("configurePresets")
    assert "CMAKE_CXX_COMPILER" not in configure["racegate-tsan"].get("cacheVariables", {})
    assert configure["racegate-tsan-clang"]["cacheVariables"]["CMAKE_CXX_COMPILER"] == "clang++"
    assert configure["racegate-tsan-gcc"]["cacheVariables"]["CMAKE_CXX_COMPILER"] == "g++"


def test_test_presets_set_tsan_options_and_never_repeat() -> None:
    tests = by_name("testPresets")
    options = tests["racegate-test-base"]["environment"]["TSAN_OPTIONS"].split()
    for flag in ("halt_on_error=0", "second_deadlock_stack=1", "history_size=7"):
        assert flag in options
    assert options[-1] == "$penv{TSAN_OPTIONS}"  # the caller's options come last and win
    for preset in tests.values():
        assert "repeat" not in preset.get("execution", {}), preset["name"]


def test_workflows_chain_matching_presets() -> None:
    for name, workflow in by_name("workflowPresets").items():
        steps = [(s["type"], s["name"]) for s in workflow["steps"]]
        assert steps == [("configure", name), ("build", name), ("test", name)]
