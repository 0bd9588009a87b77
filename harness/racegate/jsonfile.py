"""JSON files racegate writes and reads back (results, baselines, histories), and checked access to their fields.

A leaf module, so that every stage that keeps a file can use it: the history (read by the planner) as well as
the result and the gate. `JsonReader` is the one checked reader: each file's loader gives it the error to raise,
and every field of the wrong type becomes one line naming the field's path.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

from racegate.errors import RacegateError

T = TypeVar("T")
_TYPE_WORDS: dict[Any, str] = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
                               dict: "an object", list: "a list"}


def write_json(path: Path, data: dict) -> None:
    """Write atomically, so an interrupted write never leaves half a file. Names and paths that were not valid
    UTF-8 (surrogate escapes) are written as JSON \\u escapes rather than failing the whole write at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8",
                   errors="backslashreplace")
    os.replace(tmp, path)


def read_json(path: Path, what: str) -> Any:
    """A JSON file's data; a one-line error naming `what` the file should have been."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RacegateError(f"cannot read {what} {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RacegateError(f"{what} {path} is not valid JSON ({exc})") from None


class JsonReader:
    """Typed field access with defaults; a field of the wrong type raises `error("<path> should be <type>")`.

    `non_negative`: numbers must also be finite and not negative (json.loads reads NaN and Infinity, which no count
    or duration can be); the history, a cache of counts and seconds, reads its fields so."""

    def __init__(self, error: Callable[[str], Exception], non_negative: bool = False) -> None:
        self.error = error
        self.non_negative = non_negative

    def fail(self, where: str, key: object, expected: str) -> Exception:
        path = f"{where}.{key}" if where else str(key)
        return self.error(f"{path} should be {expected}")

    def opt(self, data: dict, key: str, kind: Callable[..., T], default: T, where: str = "") -> T:
        value = data.get(key)
        if value is None:
            return default
        number = kind in (int, float)
        # An int is a float in JSON; true and false are no numbers.
        ok = isinstance(value, (int, float)) if kind is float else isinstance(value, kind)  # type: ignore[arg-type]
        ok = ok and not (number and isinstance(value, bool))
        if ok and number and self.non_negative:
            ok = 0 <= value < math.inf
        if not ok:
            bounds = " (finite, not negative)" if number and self.non_negative else ""
            raise self.fail(where, key, _TYPE_WORDS.get(kind, "something else") + bounds)
        return value  # type: ignore[no-any-return]

    def required(self, data: dict, key: str, kind: Callable[..., T], where: str = "") -> T:
        """A field the file must have."""
        if data.get(key) is None:
            raise self.fail(where, key, _TYPE_WORDS.get(kind, "something else"))
        return self.opt(data, key, kind, data[key], where)

    def nullable(self, data: dict, key: str, kind: Callable[..., T], where: str = "") -> T | None:
        return self.opt(data, key, kind, None, where)  # type: ignore[arg-type]

    def obj(self, data: dict, key: str, where: str = "") -> dict:
        return self.opt(data, key, dict, {}, where)

    def lst(self, data: dict, key: str, where: str = "") -> list:
        return self.opt(data, key, list, [], where)

    def num(self, point: Any, index: int, where: str) -> float:
        """Item `index` of a list such as a curve's point, a number."""
        value = point[index] if isinstance(point, list) and len(point) > index else None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.fail(where, index, "a number")
        return value

    def int_(self, point: Any, index: int, where: str) -> int:
        if not isinstance(point, list) or len(point) <= index or not isinstance(point[index], int):
            raise self.fail(where, index, "an integer")
        return point[index]

    def strings(self, data: dict, key: str, where: str = "") -> list[str]:
        """A list, each item read as text (lenient: result files of every release load)."""
        return [str(v) for v in self.lst(data, key, where)]

    def strict_strings(self, data: dict, key: str, where: str = "") -> list[str]:
        """A list of strings, and nothing else."""
        values = self.lst(data, key, where)
        if not all(isinstance(v, str) for v in values):
            raise self.fail(where, key, "a list of strings")
        return list(values)

    def str_map(self, data: dict, key: str, where: str = "") -> dict[str, str]:
        return {str(k): str(v) for k, v in self.obj(data, key, where).items()}

    def entry(self, value: Any, where: str) -> dict:
        """`value`, which should be an object; `where` is its own path."""
        if not isinstance(value, dict):
            raise self.error(f"{where} should be an object")
        return value
