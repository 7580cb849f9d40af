"""The one reader of article files: JSON lines (``.jsonl``, ``.jsonl.gz``), ``.txt`` files,
or a folder of them, streamed line by line.

Why one reader: ``annotation import``, batch extraction (local and Ray), the demo and the
report page all read the same corpus files, so they must agree on what an article is --
which id, which text, which line is bad and why. Each caller keeps its own *policy* (import
refuses a bad line, batch writes an error record for it), but the *rules* live here:

* an object per line with ``text`` (a string) and ``id`` -- or its alias ``article_id``;
  both given must agree; an id is a non-empty string or an integer (kept as its string);
* a UTF-8 BOM at the start of a file is dropped; blank lines are skipped and counted;
* invalid UTF-8 costs nothing but a note: bytes are replaced by U+FFFD and the line says
  so (``replaced``); a caller that must not change text turns that into a problem;
* a lone surrogate in the id or text (valid JSON, but no UTF-8 file can hold it) is a
  problem; so are bad JSON, a non-object, a missing / non-string text, a bad id, a line
  over :data:`MAX_LINE_BYTES` (never held in memory whole) and a repeated id (the message
  names where it was first seen);
* an empty or blank text is *not* a problem here (``Line.empty`` says so): batch keeps it
  with a note, import rejects it;
* text is returned exactly as in the file (offsets index the original text); NFC is the
  caller's step where its contract asks for it (Label Studio tasks);
* a file that cannot be read to its end (a truncated ``.gz``) yields every line before the
  cut and then one ``Line`` with ``tail=True`` naming the last line read.

Memory: one line at a time plus the set of ids seen (needed to find repeats).
No torch, no model code: ``annotation/`` imports it, and so does ``model/``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .schema import SCHEMA

__all__ = ["MAX_LINE_BYTES", "ID_ALIAS", "ID_KEYS", "read_id", "read_objects", "ARTICLE_SUFFIXES", "Line", "Counts", "InputError",
           "ArticleReader", "article_files", "iter_lines", "read_lines"]

MAX_LINE_BYTES = 64 << 20  # one article line; a longer line is a problem, never read whole
ID_ALIAS = "article_id"  # the id's alias: Label Studio task data keeps the article id under it
ID_KEYS = ("id", ID_ALIAS)
ARTICLE_SUFFIXES = (".jsonl", ".jsonl.gz", ".txt")
_UNREADABLE = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


class InputError(Exception):
    """The input as a whole is unusable (missing, or a folder without article files)."""


@dataclass
class Line:
    """One item of an article file: an article, or the problem that makes it unusable.

    ``id`` is set whenever the line has a usable id (also on most problems, so a caller
    can name the item); ``text`` only when there is no problem.
    """

    file: str  # the file as given (path), for messages
    name: str  # its base name
    number: int | None  # 1-based line number; None for a whole ``.txt`` file
    where: str  # "line N" / "NAME line N" in a folder / "NAME.txt": the place of an id
    id: str | None = None
    text: str | None = None  # as in the file, not normalised
    fields: dict[str, Any] = field(default_factory=dict)  # the object's other keys
    problem: str | None = None
    note: str | None = None  # a change made while reading (invalid UTF-8 replaced)
    replaced: bool = False  # invalid UTF-8 was replaced by U+FFFD
    duplicate_of: str | None = None  # where this id was first seen (``problem`` says so too)
    tail: bool = False  # not a line: the file could not be read past ``number``

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def empty(self) -> bool:
        """A usable line whose text is empty or only white space."""
        return self.text is not None and not self.text.strip()


@dataclass
class Counts:
    """What the reader skipped or changed, counted (a caller reports them)."""

    blank_lines: int = 0
    invalid_utf8: int = 0
    duplicate_ids: int = 0
    skipped_entries: list[str] = field(default_factory=list)  # folder entries not read


def article_files(path: Path) -> tuple[list[Path], list[str]]:
    """The files to read in order (a file, or a folder's ``.jsonl``/``.jsonl.gz``/``.txt``
    files in name order, suffixes in any case) and the folder entries skipped."""
    if path.is_dir():
        files: list[Path] = []
        skipped: list[str] = []
        for p in sorted(path.iterdir()):
            if p.is_file() and p.name.lower().endswith(ARTICLE_SUFFIXES):
                files.append(p)
            else:
                skipped.append(p.name + ("/" if p.is_dir() else ""))
        if not files:
            raise InputError(f"no .jsonl, .jsonl.gz or .txt files in {path}")
        return files, skipped
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if not path.is_file():
        raise InputError(f"input is not a file or folder: {path}")
    return [path], []


def iter_lines(read: Callable[[int], bytes], block: int = 1 << 20) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` from a ``read(n)`` function (``None`` for a line over
    ``MAX_LINE_BYTES``, which is skipped without being held in memory). Errors of ``read``
    (a truncated ``.gz``: ``EOFError``) propagate after every complete line before them."""
    buf, number, skipping = b"", 0, False
    while True:
        data = read(block)
        if not data:
            break
        buf += data
        start = 0
        while (nl := buf.find(b"\n", start)) >= 0:
            number += 1
            too_long = skipping or nl - start > MAX_LINE_BYTES
            yield number, None if too_long else buf[start : nl + 1]
            skipping, start = False, nl + 1
        buf = buf[start:]
        if skipping or len(buf) > MAX_LINE_BYTES:
            skipping, buf = True, b""
    if buf or skipping:
        yield number + 1, None if skipping or len(buf) > MAX_LINE_BYTES else buf


def _surrogate(value: str) -> str | None:
    """Where ``value`` holds a lone surrogate (which no UTF-8 file can store), else None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"a lone surrogate {value[err.start]!r} at character {err.start}"
    return None


def printable(value: str) -> str:
    """``value`` with lone surrogates escaped, so it can be written and printed."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _decode(raw: bytes) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as err:
        return (raw.decode("utf-8", errors="replace"),
                f"invalid UTF-8 replaced by U+FFFD (first at byte {err.start})")


def read_id(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    """(id, problem) from ``id`` / ``article_id``; (None, None) when neither is there."""
    given = [(k, obj[k]) for k in ID_KEYS if obj.get(k) is not None]
    for key, value in given:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            return None, f"'{key}' is empty or not a string/integer: {printable(repr(value))[:40]}"
    if not given:
        return None, None
    if len(given) == 2 and str(given[0][1]) != str(given[1][1]):
        return None, (f"'id' {printable(str(given[0][1]))!r} and 'article_id' "
                      f"{printable(str(given[1][1]))!r} disagree")
    value = str(given[0][1])
    where = _surrogate(value)
    if where:
        return printable(value), f"'{given[0][0]}' holds {where}"
    return value, None


def _object(line: str, item: Line) -> dict[str, Any] | None:
    """The JSON object of one line, or None with ``item.problem`` saying why."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        item.problem = f"bad JSON: {err.msg} (column {err.colno})"
        return None
    except RecursionError:
        item.problem = "bad JSON: nested too deeply"
        return None
    if not isinstance(obj, dict):
        item.problem = f"not a JSON object but {type(obj).__name__}"
        return None
    return obj


def _parse(line: str, item: Line) -> None:
    """Fill ``item`` from one JSON line (the rules of the module docstring)."""
    obj = _object(line, item)
    if obj is None:
        return
    item.id, item.problem = read_id(obj)
    if item.problem:
        return
    key = SCHEMA.text_name
    if key not in obj or obj[key] is None:
        item.problem = f"missing '{key}'" + (" and 'id'" if item.id is None else "")
        return
    text = obj[key]
    if not isinstance(text, str):
        item.problem = f"'{key}' is not a string but {type(text).__name__}"
        return
    where = _surrogate(text)
    if where:
        item.problem = f"'{key}' holds {where}"
        return
    if item.id is None:
        item.problem = "missing 'id'"
        return
    item.text = text
    item.fields = {k: v for k, v in obj.items() if k not in ID_KEYS and k != key}


class ArticleReader:
    """Reads article files under one set of ids (a repeat anywhere is a problem).

    ``seen`` maps each id to where it was first seen; a caller that makes up ids (batch:
    ``line:N``) adds them with :meth:`claim` so a later real id never collides with them.
    """

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.counts = Counts()

    def claim(self, item_id: str, where: str) -> None:
        self.seen.setdefault(item_id, where)

    def _check_id(self, item: Line) -> Line:
        if item.id is None:
            return item
        first = self.seen.get(item.id)
        if first is not None:
            self.counts.duplicate_ids += 1
            item.duplicate_of = first
            item.problem = f"duplicate id {item.id!r} (first at {first})"
            item.text = None
        else:
            self.seen[item.id] = item.where
        return item

    def read(self, path: str | Path) -> Iterator[Line]:
        """Every item of a file or folder, in order (see :func:`article_files`)."""
        path = Path(path)
        files, skipped = article_files(path)
        self.counts.skipped_entries += skipped
        folder = path.is_dir()
        for file in files:
            if file.name.lower().endswith(".txt"):
                try:
                    size = file.stat().st_size
                    data = file.read_bytes() if size <= MAX_LINE_BYTES else None
                except OSError as err:
                    yield Line(str(file), file.name, 0, file.name, tail=True,
                               problem=f"unreadable ({type(err).__name__}: {err})")
                    continue
                yield self.text_file(str(file), data)
                continue
            opener = gzip.open if file.name.lower().endswith(".gz") else open
            try:
                with opener(file, "rb") as handle:  # read1: a truncated .gz loses nothing before the cut
                    yield from self.lines(str(file), iter_lines(handle.read1), folder=folder)
            except _UNREADABLE as err:  # opening failed (the stream's own errors are caught below)
                yield Line(str(file), file.name, 0, file.name, tail=True,
                           problem=f"unreadable ({type(err).__name__}: {err})")

    def text_file(self, file: str, data: bytes | None) -> Line:
        """The one article of a ``.txt`` file (id = name without ``.txt``); ``data`` None:
        the file is over ``MAX_LINE_BYTES``."""
        name = Path(file).name
        item = Line(file, name, None, name, id=name[: -len(".txt")])
        if data is None:
            item.problem = f"file larger than {MAX_LINE_BYTES} bytes"
        else:
            text, item.note = _decode(data)
            item.replaced = item.note is not None
            self.counts.invalid_utf8 += item.replaced
            item.text = text.removeprefix("\ufeff")
        return self._check_id(item)

    def lines(self, file: str, lines: Iterator[tuple[int, bytes | None]], *,
              folder: bool = False) -> Iterator[Line]:
        """Items of one JSON-lines stream (``lines`` from :func:`iter_lines`); messages name
        the file when ``folder`` (several files share one set of ids)."""
        for item, text in self._decoded(file, lines, folder):
            if text is not None:
                _parse(text, item)
            yield item if item.tail else self._check_id(item)

    def _decoded(self, file: str, lines: Iterator[tuple[int, bytes | None]],
                 folder: bool) -> Iterator[tuple[Line, str | None]]:
        """Each non-blank line decoded (BOM dropped, invalid UTF-8 replaced and noted), or
        its problem; last, a ``tail`` item if the stream breaks off."""
        name = Path(file).name
        number = 0
        try:
            for number, raw in lines:
                if raw is not None and not raw.strip():
                    self.counts.blank_lines += 1
                    continue
                where = f"{name} line {number}" if folder else f"line {number}"
                item = Line(file, name, number, where)
                if raw is None:
                    item.problem = f"line longer than {MAX_LINE_BYTES} bytes"
                    yield item, None
                    continue
                text, item.note = _decode(raw)
                item.replaced = item.note is not None
                self.counts.invalid_utf8 += item.replaced
                yield item, text.removeprefix("\ufeff") if number == 1 else text
        except _UNREADABLE as err:
            yield Line(file, name, number, f"{name} after line {number}", tail=True,
                       problem=f"unreadable after line {number} ({type(err).__name__}: {err})"), None

    def objects(self, path: str | Path) -> Iterator[tuple[Line, dict[str, Any] | None]]:
        """Each non-blank line of one JSON-lines file (``.jsonl`` / ``.jsonl.gz``) as an
        object, under the same decoding rules, for files that are not articles (e.g.
        pre-annotations); ``None`` with ``Line.problem`` for a line that is no object.
        Ids are not checked: what an id means there is the caller's rule."""
        path = Path(path)
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as handle:
            for item, text in self._decoded(str(path), iter_lines(handle.read1), False):
                yield item, None if text is None else _object(text, item)


def read_lines(path: str | Path, reader: ArticleReader | None = None) -> Iterator[Line]:
    """Every item of a file or folder (a fresh :class:`ArticleReader` unless given)."""
    return (reader or ArticleReader()).read(path)


def read_objects(path: str | Path) -> Iterator[tuple[Line, dict[str, Any] | None]]:
    """:meth:`ArticleReader.objects` of a fresh reader."""
    return ArticleReader().objects(path)
