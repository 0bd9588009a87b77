"""Build presets: which one `racegate run --preset P` builds through, and the cmake commands it runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from racegate import build
from racegate.errors import RacegateError

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_a_build_preset_is_found_through_includes_and_user_presets_with_inherited_fields(tmp_path: Path):
    write(tmp_path / "CMakePresets.json", {"version": 6, "include": ["cmake/more.json"]})
    write(tmp_path / "cmake" / "more.json", {"version": 6, "include": ["../vendor/base.json"], "buildPresets": [
        {"name": "core", "configurePreset": "tsan", "jobs": 3, "targets": ["core_test"]}]})
    write(tmp_path / "vendor" / "base.json", {"version": 6, "buildPresets": [
        {"name": "base", "hidden": True, "configurePreset": "tsan-gcc"}]})
    write(tmp_path / "CMakeUserPresets.json", {"version": 6, "buildPresets": [
        {"name": "mine", "inherits": ["core"], "targets": ["other_test"]},
        {"name": "from-hidden", "inherits": "base"}]})
    assert build.find_build_preset(tmp_path, "core") == build.BuildPreset("core", "tsan", has_jobs=True)
    assert build.find_build_preset(tmp_path, "mine") == build.BuildPreset("mine", "tsan", has_jobs=True)
    assert build.find_build_preset(tmp_path, "from-hidden") == build.BuildPreset("from-hidden", "tsan-gcc", False)
    assert build.find_build_preset(tmp_path, "base") is None  # hidden: cmake would refuse it
    assert build.find_build_preset(tmp_path, "tsan") is None


def test_the_repos_own_presets_have_build_presets_for_each_compiler():
    found = build.find_build_preset(REPO, "racegate-tsan-clang")
    assert found == build.BuildPreset("racegate-tsan-clang", "racegate-tsan-clang", has_jobs=False)


@pytest.mark.parametrize("files,message", [
    ({"CMakePresets.json": "{"}, "cannot parse presets file"),
    ({"CMakePresets.json": '{"include": ["gone.json"]}'}, "includes gone.json, which is not a file"),
    ({"CMakePresets.json": '{"include": "x.json"}'}, "is not a list"),
    ({"CMakePresets.json": '{"buildPresets": [{"name": "b"}]}'}, "names no configurePreset"),
])
def test_broken_presets_are_one_line_errors(tmp_path: Path, files: dict[str, str], message: str):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(RacegateError, match=message):
        build.find_build_preset(tmp_path, "b")


@pytest.fixture
def commands(monkeypatch) -> list[list[str]]:
    """The cmake commands build_preset runs, answered as a successful configure and build would be."""
    ran: list[list[str]] = []

    def fake(argv, cwd, log_path):
        ran.append(argv)
        return 0, "-- Build files have been written to: /b/dir\n"
    monkeypatch.setattr(build, "_logged", fake)
    return ran


def test_a_build_preset_configures_its_configure_preset_and_builds_through_itself(tmp_path, commands):
    write(tmp_path / "CMakePresets.json", {"version": 6, "buildPresets": [
        {"name": "core", "configurePreset": "tsan", "targets": ["core_test"]},
        {"name": "paced", "configurePreset": "tsan", "jobs": 1}]})
    assert build.build_preset(tmp_path, "core", tmp_path / "log", 4) == Path("/b/dir")
    assert commands == [["cmake", "--preset", "tsan"], ["cmake", "--build", "--preset", "core", "--parallel", "4"]]
    commands.clear()
    # The preset's own jobs win; --target replaces its targets.
    build.build_preset(tmp_path, "paced", tmp_path / "log", 4, ("a", "b"))
    assert commands[1] == ["cmake", "--build", "--preset", "paced", "--target", "a", "--target", "b"]


def test_without_a_build_preset_every_target_or_the_given_ones_are_built(tmp_path, commands):
    write(tmp_path / "CMakePresets.json", {"version": 6, "configurePresets": [{"name": "tsan"}]})
    build.build_preset(tmp_path, "tsan", tmp_path / "log", 2)
    assert commands == [["cmake", "--preset", "tsan"], ["cmake", "--build", "/b/dir", "--parallel", "2"]]
    commands.clear()
    build.build_preset(tmp_path, "tsan", tmp_path / "log", 2, ("t",))
    assert commands[1] == ["cmake", "--build", "/b/dir", "--parallel", "2", "--target", "t"]


def test_target_without_preset_is_a_usage_error(tmp_path: Path):
    proc = subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--target", "t", "--build-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--target needs --preset" in lines[0]


# gcc 12's output for a fence in a target compiled with -Werror (the make lines shortened).
WERROR_TSAN_OUTPUT = """\
In file included from /usr/include/c++/12/atomic:41,
                 from /p/fence.cpp:1:
In function 'void std::atomic_thread_fence(memory_order)',
    inlined from 'int main()' at /p/fence.cpp:2:38:
/usr/include/c++/12/bits/atomic_base.h:133:26: error: 'atomic_thread_fence' is not supported with \
'-fsanitize=thread' [-Werror=tsan]
cc1plus: all warnings being treated as errors
gmake[2]: *** [CMakeFiles/fence.dir/build.make:76: CMakeFiles/fence.dir/fence.cpp.o] Error 1
"""


# Without -Werror the warning stays one, and a build failing for another reason gets no hint about it.
OTHER_ERROR_OUTPUT = """\
/usr/include/c++/12/bits/atomic_base.h:133:26: warning: 'atomic_thread_fence' is not supported with \
'-fsanitize=thread' [-Wtsan]
/p/other.cpp:3:1: error: 'x' was not declared in this scope
gmake[2]: *** [CMakeFiles/other.dir/build.make:76: CMakeFiles/other.dir/other.cpp.o] Error 1
"""


@pytest.mark.parametrize("output,hinted", [(WERROR_TSAN_OUTPUT, True), (OTHER_ERROR_OUTPUT, False)],
                         ids=["werror-tsan", "other-error"])
def test_a_build_failed_by_werror_tsan_says_how_to_keep_it_a_warning(tmp_path, monkeypatch, output, hinted):
    write(tmp_path / "CMakePresets.json", {"version": 6, "configurePresets": [{"name": "tsan"}]})
    steps = iter([(0, "-- Build files have been written to: /b/dir\n"), (2, output)])
    monkeypatch.setattr(build, "_logged", lambda argv, cwd, log_path: next(steps))
    with pytest.raises(RacegateError) as raised:
        build.build_preset(tmp_path, "tsan", tmp_path / "log", 2)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"build of preset 'tsan' failed ({tmp_path / 'log'}): ")
    if hinted:
        assert "atomic_base.h:133:26: error: 'atomic_thread_fence' is not supported" in message
        assert "racegate-tsan-gcc preset keeps it a warning (-Wno-error=tsan)" in message
    else:
        assert message.endswith("/p/other.cpp:3:1: error: 'x' was not declared in this scope")


def test_a_presets_file_with_a_byte_order_mark_is_read_as_cmake_reads_it(tmp_path: Path):
    text = json.dumps({"version": 6, "buildPresets": [{"name": "b", "configurePreset": "c"}]})
    (tmp_path / "CMakePresets.json").write_text("\ufeff" + text, encoding="utf-8")
    assert build.find_build_preset(tmp_path, "b") == build.BuildPreset("b", "c", has_jobs=False)


def test_the_cache_of_a_subdir_is_read_at_the_top_of_its_tree(tmp_path: Path):
    # `--build-dir build/tests`, where only tests/ enables testing (field #28): the flags are the tree's.
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "CMakeCache.txt").write_text("CMAKE_BUILD_TYPE:STRING=RelWithDebInfo\n"
                                             "CMAKE_CXX_FLAGS:STRING=-fsanitize=thread -g\n")
    assert build.tree_top(tmp_path / "tests" / "unit") == tmp_path
    assert build.cache_value(tmp_path / "tests", "CMAKE_BUILD_TYPE") == "RelWithDebInfo"
    assert build.uses_tsan(tmp_path / "tests" / "unit")
    assert build.tree_top(Path("/")) is None and build.cache_value(Path("/"), "CMAKE_CXX_FLAGS") is None
