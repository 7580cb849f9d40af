"""Batch extraction over a corpus: JSON lines in, one record per article out, nothing lost.

::

    python -m model.batch --model DIR --input articles.jsonl --output events.jsonl
    python -m model.batch --model DIR --input folder/ --output events.jsonl --batch-size 64
    python -m model.batch --engine ray --model DIR --input corpus/ --output events/   # see docs/BATCH.md

Input: a ``.jsonl`` (or ``.jsonl.gz``) file of ``{"id": ..., "text": ...}`` objects (``id``
or its alias ``article_id``; the reading rules are annotation/articles.py's), or a
folder of such files and/or ``.txt`` files (one article each, id = file name without
``.txt``), read in sorted name order (suffixes in any case; every other entry of the folder
is counted and named as skipped).

Output: one line per input record, ``{"id": ID, "events": [...]}`` (``StrikeEvent.to_dict``
after ``normalize_events``: DATE intervals, COUNT ranges, PLACE gazetteer entries; the
line keeps the input's ``url``, ``source``/``outlet`` and ``date``/``published``), or
``{"id": ID, "error": "..."}`` for a record that cannot be used. ``--records PATH`` also
writes the incident records of each article (``model.records.build_records``; one
``Record.to_dict()`` per line, the input of ``python -m model.incidents``), with the same
checks, lock and resume as ``--output`` (:func:`open_outputs`). With ``--format
labelstudio`` a record is ``{"id", "result", "score", "model_version"}`` instead, ready for
``python -m annotation import --predictions``. A record whose text was changed or is
unusable for the model carries ``"note"`` (invalid UTF-8 replaced, empty text, no Arabic
letters). Nothing is dropped silently: a line without an id gets the id ``line:N``
(``FILE:line:N`` for a folder); a repeated id gets ``ID@line:N`` (``ID@FILE:line:N``) and an
error naming where it was first seen; a generated id never collides with a real one (a
clash is made unique with ``#2``, ``#3``...). Every such change is counted in the summary.

Why these rules: a corpus run takes hours, so one bad record must cost one record, never
the run; and the output must be trustworthy after a kill, a rerun or a mistake on the
command line.

* **Resume.** The ids already in ``--output`` are skipped. Only a torn last line (a killed
  write: no newline at the end and not a complete record) is cut off, and that is reported.
  A file with any other line that is not one of our records is refused, never truncated.
* **One writer.** The output is locked (``fcntl`` lock on ``OUTPUT.lock``, left in place);
  a second run on the same output stops at once.
* **Checked before the model loads:** the input exists, the output is not the input (nor
  inside an input folder), not a folder, and writable; the model path exists.
* **Memory** stays flat in the corpus size: the input streams in chunks of at most
  ``--max-chars-per-batch`` characters; only the set of ids seen is kept. A line over
  ``MAX_LINE_BYTES`` becomes an error record without being read into memory whole.

Exit codes: 0 every record extracted; 1 some records are error records (or the input was
cut short, e.g. a truncated ``.gz``: all readable records are written); 2 unusable input,
output, model or usage (nothing was extracted).

Several GPUs or machines: ``--engine ray`` (``model.ray_batch``) -- Ray Data, one extractor
per actor, exactly-once output by id. (An earlier torchrun shard-and-merge mode is gone: Ray
does the same on one machine and many, with a checkpoint that survives kills; see
docs/BATCH.md.)
"""

from __future__ import annotations

import argparse
import functools
import contextlib
import fcntl
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from annotation.articles import MAX_LINE_BYTES, ArticleReader, InputError, Line, article_files
from annotation.schema import SCHEMA

from .model_source import ModelSourceError, load_failure, model_source

__all__ = ["main", "process", "read_records", "repair_output", "open_output", "open_outputs",
           "Record", "Output", "Summary", "Resume", "UsageError", "META_KEYS", "EXIT_OK",
           "EXIT_RECORD_ERRORS", "EXIT_USAGE"]

EXIT_OK, EXIT_RECORD_ERRORS, EXIT_USAGE = 0, 1, 2
RECORD_KEYS = ("events", "error", "result")  # one of them makes a line one of our records
#: article fields kept from each input line (url, outlet, publication date): they go into the
#: events line and the incident records' sources (model/records.py ``Source.from_article``)
META_KEYS = ("url", "source", "outlet", "date", "published")
EXAMPLES = 5  # error examples / skipped files named in the summary


class UsageError(Exception):
    """Input, output, model or options unusable: one line for the user, exit code 2."""


@dataclass
class Record:
    """One input record: its id and text, or an error saying why it cannot be used."""

    index: int  # record index (0-based, over the whole input)
    id: str
    text: str | None = None
    error: str | None = None
    note: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # META_KEYS found on the line

    @property
    def published(self) -> Any:
        """The publication date as given (``published``, else ``date``), or None."""
        return self.meta.get("published", self.meta.get("date"))


@dataclass
class Output:
    """What one input record gives: its output line and (``--records``) its incident
    records (``Record.to_dict()`` of model/records.py)."""

    line: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_date: bool = False


@dataclass
class Summary:
    """What a run did, every skipped or changed item counted."""

    records: int = 0
    events: int = 0
    errors: int = 0
    skipped_done: int = 0
    blank_lines: int = 0
    invalid_utf8: int = 0
    empty_text: int = 0
    no_arabic: int = 0
    generated_ids: int = 0
    duplicate_ids: int = 0
    bad_dates: int = 0  # publication date present but unparseable: dates not normalised
    no_date: int = 0  # no publication date: DATE spans get no interval
    dropped_values: int = 0  # url/date/... values NaN or Infinity: not JSON, dropped
    incidents: int | None = None  # incident records written (None: no --records)
    incidents_done: int = 0  # incident records already in --records (a resumed article)
    skipped_files: list[str] = field(default_factory=list)
    input_problems: list[str] = field(default_factory=list)
    repaired: str | None = None
    seconds: float = 0.0
    error_examples: list[str] = field(default_factory=list)

    def add_error(self, rid: str, error: str) -> None:
        self.errors += 1
        if len(self.error_examples) < EXAMPLES:
            self.error_examples.append(f"{rid}: {error}")

    @property
    def exit_code(self) -> int:
        """0 all good; 1 error records or an input cut short; 2 when the input could not be
        read at all (a ``.gz`` that is no gzip: no record, none done before)."""
        if self.input_problems and not (self.records or self.skipped_done):
            return EXIT_USAGE
        return EXIT_RECORD_ERRORS if self.errors or self.input_problems else EXIT_OK

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        return (
            f"records written {self.records}, events {self.events}, errors {self.errors}, "
            f"skipped as done {self.skipped_done}, blank lines {self.blank_lines}, "
            f"{self.seconds:.1f} s ({rate:.1f} records/s)"
        )

    def report(self) -> list[str]:
        """The summary line and one line per kind of change or problem (none when clean)."""
        out = [self.line()]
        notes = [f"{n} {what}" for n, what in (
            (self.invalid_utf8, "lines with invalid UTF-8 (replaced by U+FFFD)"),
            (self.empty_text, "empty texts"),
            (self.no_arabic, "texts without Arabic letters"),
            (self.generated_ids, "ids generated (missing or unusable id)"),
            (self.duplicate_ids, "duplicate ids renamed"),
            (self.bad_dates, "unparseable publication dates (dates not normalised; see 'note')"),
            (self.no_date, "articles without a publication date (DATE spans not resolved)"),
            (self.dropped_values, "NaN/Infinity field values dropped (not JSON)"),
        ) if n]
        if self.incidents is not None:
            out.append(f"incident records written {self.incidents}"
                       + (f", {self.incidents_done} already in --records"
                          if self.incidents_done else ""))
        if notes:
            out.append("notes: " + ", ".join(notes))
        if self.skipped_files:
            names = ", ".join(self.skipped_files[:EXAMPLES])
            more = len(self.skipped_files) - EXAMPLES
            out.append(f"skipped {len(self.skipped_files)} folder entries that are not "
                       f".jsonl/.jsonl.gz/.txt files: {names}" + (f" and {more} more" if more > 0 else ""))
        if self.repaired:
            out.append(self.repaired)
        out += [f"input problem: {p}" for p in self.input_problems]
        out += [f"  error: {e}" for e in self.error_examples]
        return out


# -- input ----------------------------------------------------------------------------------
# The reading rules (ids and their alias, BOM, invalid UTF-8, lone surrogates, repeats, gzip,
# long lines) live in annotation/articles.py; this part only turns its items into records.
def input_files(path: Path, summary: Summary | None = None) -> list[Path]:
    """The files to read, in order; folder entries that are not inputs are counted."""
    try:
        files, skipped = article_files(path)
    except InputError as err:
        raise UsageError(str(err)) from None
    if not path.is_dir():  # one file: unreadable is unusable input (in a folder: a problem)
        try:
            with open(path, "rb"):
                pass
        except OSError as err:
            raise UsageError(f"cannot read input {path}: {err.strerror}") from None
    if summary is not None:
        summary.skipped_files += skipped
    return files


class _Ids:
    """Batch's id policy over the reader's ids: a line without a usable id gets ``line:N``
    (``FILE:line:N``), a repeat gets ``ID@line:N``; neither ever takes an id already seen,
    nor (given ``real_ids``) one that a later line of the input holds.

    ``real_ids``: returns every id the input's lines hold. Called once, at the first id to
    make up, so a clean input is read once; an input that needs made-up ids is read twice,
    its ids kept in memory (as the reader keeps them anyway, to find repeats)."""

    def __init__(self, summary: Summary, reader: ArticleReader,
                 real_ids: Callable[[], set[str]] | None = None):
        self.summary = summary
        self.reader = reader
        self._real_ids = real_ids
        self._later: set[str] | None = None

    def _free(self, candidate: str) -> str:
        if self._later is None:
            self._later = self._real_ids() if self._real_ids is not None else set()
        unique, n = candidate, 1
        while unique in self.reader.seen or unique in self._later:
            n += 1
            unique = f"{candidate}#{n}"
        return unique

    def record(self, item: Line, index: int, folder: bool) -> Record:
        """The record of one reader item (its error, note and article fields)."""
        if item.number is None:  # a .txt file
            suffix = item.name
        else:
            suffix = f"{item.name}:line:{item.number}" if folder else f"line:{item.number}"
        if item.duplicate_of is not None:
            self.summary.duplicate_ids += 1
            rid = self._free(f"{item.id}@{suffix}")
            self.reader.claim(rid, item.where)
        elif item.id is None:
            self.summary.generated_ids += 1
            rid = self._free(suffix)
            self.reader.claim(rid, item.where)
        else:
            rid = item.id
        self.summary.invalid_utf8 += item.replaced
        meta = {k: item.fields[k] for k in META_KEYS if item.fields.get(k) is not None}
        note = item.note
        for key, value in list(meta.items()):  # NaN / Infinity parse, but are not JSON
            if isinstance(value, float) and not math.isfinite(value):
                del meta[key]
                self.summary.dropped_values += 1
                note = _join(note, f"{key!r} {value} is not a JSON value: dropped")
        return Record(index, rid, text=item.text, error=item.problem, note=note, meta=meta)


def read_records(path: str | Path, summary: Summary | None = None) -> Iterator[Record]:
    """Every record of the input, in order, with unique ids (blank lines skipped); every
    change, skip and unreadable tail is counted in ``summary``."""
    summary = summary if summary is not None else Summary()
    path = Path(path)
    input_files(path)  # a missing input is a UsageError before anything is read
    reader = ArticleReader()

    def real_ids() -> set[str]:
        return {item.id for item in ArticleReader().read(path) if item.id is not None}

    yield from records_of(reader.read(path), reader, summary, folder=path.is_dir(),
                          real_ids=real_ids)
    summary.skipped_files += reader.counts.skipped_entries


def records_of(items: Iterator[Line], reader: ArticleReader, summary: Summary, *,
               folder: bool, counter: Iterator[int] | None = None,
               real_ids: Callable[[], set[str]] | None = None) -> Iterator[Record]:
    """Records of the reader's items: problems become error records, a file that cannot be
    read to its end an input problem in ``summary`` (the records before it are yielded).
    ``real_ids``: see :class:`_Ids`."""
    from .extractor import has_arabic  # torch-free

    ids = _Ids(summary, reader, real_ids)
    counter = counter if counter is not None else itertools.count()
    blank = reader.counts.blank_lines
    for item in items:
        summary.blank_lines += reader.counts.blank_lines - blank
        blank = reader.counts.blank_lines
        if item.tail:
            summary.input_problems.append(f"{item.file}: {item.problem}; "
                                          "the records before it were processed")
            continue
        yield _noted(ids.record(item, next(counter), folder), summary, has_arabic)
    summary.blank_lines += reader.counts.blank_lines - blank


def _noted(rec: Record, summary: Summary, has_arabic: Any) -> Record:
    if rec.error is None and rec.text is not None:
        if not rec.text.strip():
            summary.empty_text += 1
            rec.note = _join(rec.note, "empty text")
        elif not has_arabic(rec.text):
            summary.no_arabic += 1
            rec.note = _join(rec.note, "no Arabic letters: nothing to extract")
    return rec


def _join(a: str | None, b: str) -> str:
    return f"{a}; {b}" if a else b


# -- output ---------------------------------------------------------------------------------
@dataclass
class Resume:
    """What an existing output holds: the ids done, and what (if anything) was repaired."""

    done: set[str] = field(default_factory=set)
    repaired: str | None = None


def _is_record(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("id"), str)
            and any(k in obj for k in RECORD_KEYS))


def is_incident_record(obj: Any) -> bool:
    """Whether a ``--records`` line is one of ours (``Record.to_dict()``)."""
    return (isinstance(obj, dict) and isinstance(obj.get("id"), str)
            and "kind" in obj and isinstance(obj.get("reports"), list))


def repair_output(path: str | Path, is_record: Any = _is_record) -> Resume:
    """Ids already written to ``path``. Cuts only a torn last line (a killed write: no final
    newline, starts like our record, does not parse); adds a missing final newline after a
    complete record. Raises :class:`UsageError` for a file that is not our output, so a
    wrong ``--output`` is never truncated. ``is_record`` says what a line of ours is (the
    events/pre-annotation lines, or :func:`is_incident_record` for ``--records``)."""
    path = Path(path)
    resume = Resume()
    if not path.exists():
        return resume
    good_end = 0
    number = 0
    try:
        handle = open(path, "rb")
    except OSError as err:
        raise UsageError(f"cannot read --output {path} (to resume it): {err.strerror}") from None
    with handle:
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            number += 1
            complete = raw.endswith(b"\n")
            if not raw.strip():
                good_end += len(raw)
                if not complete:  # blank last line: the next record must start a line
                    _append_newline(path)
                    resume.repaired = f"added the missing newline after line {number} of {path}"
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError):
                obj = None
            if is_record(obj):
                resume.done.add(obj["id"])
                good_end += len(raw)
                if not complete:  # a whole record, only its newline missing
                    _append_newline(path)
                    resume.repaired = f"added the missing newline after line {number} of {path}"
                continue
            if not complete and raw.startswith(b'{"id": ') and handle.read(1) == b"":
                with open(path, "r+b") as fix:
                    fix.truncate(good_end)
                    fix.flush()
                    os.fsync(fix.fileno())
                resume.repaired = (f"cut a torn last line ({len(raw)} bytes, line {number}) "
                                   f"from {path}: a killed write; its record is done again")
                break
            raise UsageError(
                f"{path} line {number} is not a ghara output record, so --output looks like "
                "the wrong file; it is left untouched: choose another --output or move it away")
    return resume


def _append_newline(path: Path) -> None:
    with open(path, "ab") as fix:
        fix.write(b"\n")
        fix.flush()
        os.fsync(fix.fileno())


def _lock(path: Path) -> IO[bytes]:
    """An exclusive lock on ``PATH.lock`` for this process's lifetime (released on close or
    exit, also after a kill -9, so a stale lock file never blocks a rerun). ``PATH`` with its
    symbolic links resolved: one file named two ways has one lock (for a hard link see
    :func:`_lock_open_file`)."""
    real = Path(os.path.realpath(path))
    lock_path = real.with_name(real.name + ".lock")
    try:
        handle = open(lock_path, "ab")
    except OSError as err:
        raise UsageError(f"cannot create lock file {lock_path}: {err.strerror}") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UsageError(f"another run is writing {path} (it holds {lock_path}); wait for it "
                         "to finish or choose another --output") from None
    return handle


def _lock_open_file(handle: IO[bytes], path: Path) -> None:
    """Lock the opened output file itself: a hard link (another name, another ``.lock``) to
    a file another run is writing is refused too."""
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise UsageError(f"another run is writing {path} under another name (a hard link); "
                         "wait for it to finish or choose another --output") from None


def check_output(output: Path, input_path: Path) -> None:
    """Refuse an output that is a folder, not a regular file (a pipe, a device), the input
    itself, or inside an input folder."""
    if output.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file name (.jsonl)")
    if output.exists() and not output.is_file():
        raise UsageError(f"--output {output} is not a regular file (a pipe or a device); "
                         "give a file name (.jsonl)")
    if not input_path.is_dir() and (
        os.path.realpath(output) == os.path.realpath(input_path)
        or output.exists() and input_path.exists() and os.path.samefile(output, input_path)
    ):
        raise UsageError(f"--output {output} is the input file; choose another name")
    if input_path.is_dir():
        folder = input_path.resolve()
        if folder == output.resolve().parent or folder in output.resolve().parents:
            raise UsageError(f"--output {output} is inside the input folder {input_path} "
                             "(it would be read as input); choose a path outside it")


@contextlib.contextmanager
def open_output(output: str | Path, input_path: str | Path,
                is_record: Any = _is_record) -> Iterator[tuple[IO[bytes], Resume]]:
    """Checked, locked and repaired output, open for appending, and what it already holds."""
    output, input_path = Path(output), Path(input_path)
    check_output(output, input_path)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create the folder of --output {output}: {err.strerror}") from None
    with contextlib.closing(_lock(output)):
        try:
            handle = open(output, "ab")
        except OSError as err:
            raise UsageError(f"cannot write --output {output}: {err.strerror}") from None
        with handle:
            _lock_open_file(handle, output)  # before the repair reads (and may cut) it
            yield handle, repair_output(output, is_record)


@dataclass
class Outputs:
    """The opened outputs of a run: events (``out``) and, with ``--records``, the incident
    records file; what each already holds."""

    out: IO[bytes]
    resume: Resume
    records: IO[bytes] | None = None
    records_resume: Resume | None = None


@contextlib.contextmanager
def open_outputs(output: str | Path, input_path: str | Path,
                 records: str | Path | None = None) -> Iterator[Outputs]:
    """:func:`open_output` for the events file and, when ``records`` is given, the same
    checks, lock and repair for the records file.

    The events file is the commit log: an article counts as done when its events line is
    written, and its records are written (and fsync'ed) just before it. A rerun redoes an
    article whose events line is missing and skips those of its records already in the
    records file (record ids are stable), so each record is written exactly once. A records
    file that does not exist beside an events file that already holds articles is refused:
    those articles' records would be missing without a word."""
    with contextlib.ExitStack() as stack:
        out, resume = stack.enter_context(open_output(output, input_path))
        if records is None:
            yield Outputs(out, resume)
            return
        records = Path(records)
        if os.path.realpath(records) == os.path.realpath(output) or (
                records.exists() and os.path.samefile(records, output)):
            raise UsageError(f"--records {records} is the --output file; choose another name")
        if not records.exists() and resume.done:
            raise UsageError(
                f"--records {records} does not exist but --output {output} already holds "
                f"{len(resume.done)} articles, whose records would be missing; use a new "
                "--output (or rerun without --records)")
        rec_out, rec_resume = stack.enter_context(
            open_output(records, input_path, is_incident_record))
        yield Outputs(out, resume, rec_out, rec_resume)


def encode_line(rec: dict) -> bytes:
    """One output line; never fails (a string UTF-8 cannot hold is escaped, not written raw)."""
    try:
        return (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(rec, ensure_ascii=True) + "\n").encode("ascii")


def _write(handle: IO[bytes], records: list[dict]) -> None:
    handle.write(b"".join(encode_line(rec) for rec in records))
    handle.flush()
    os.fsync(handle.fileno())


# -- the loop --------------------------------------------------------------------------------
def _chunks(records: Iterator[Record], max_chars: int, max_records: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    chars = 0
    for rec in records:
        chunk.append(rec)
        chars += len(rec.text or "")
        if chars >= max_chars or len(chunk) >= max_records:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def _extract_chunk(extract: Any, texts: list[str], batch_size: int) -> list[Any]:
    """Results per text; on a failure, retried one by one so one bad text costs one record."""
    try:
        return extract(texts, batch_size=batch_size)
    except Exception:  # noqa: BLE001 - isolate the text that fails
        out = []
        for text in texts:
            try:
                out.append(extract([text], batch_size=batch_size)[0])
            except Exception as err:  # noqa: BLE001
                out.append(err)
        return out


def _preannotation(article_id: str, doc: Any, scores: list[float], model_version: str) -> dict:
    """A line ``python -m annotation import --predictions`` reads: Label Studio result items."""
    from annotation.predictions import to_label_studio_results

    return {
        "id": article_id,
        "result": to_label_studio_results(doc.spans, doc.relations, scores),
        "score": round(sum(scores) / len(scores), 4) if scores else 0.0,
        "model_version": model_version,
    }


def normalise_article(rec: Record, events: list[Any], summary: Summary,
                      with_records: bool) -> tuple[list[Any], list[Any], bool]:
    """``(normalised events, records, bad date)`` of one article (docs/RECORDS.md).

    Every event gets its normalised values (:func:`model.events.normalize_events`: DATE
    intervals anchored on the publication date, COUNT ranges, PLACE gazetteer entries; the
    gazetteer is loaded on the first place of the process and cached, never per article).
    A publication date that does not parse is counted, noted on the article's line, and the
    article is normalised without it (no DATE intervals, records without dates) rather than
    lost."""
    from .dates import publication_anchor
    from .events import normalize_events

    article = {"id": rec.id, **rec.meta}
    published, anchor, bad = rec.published, None, False
    if published is None:
        summary.no_date += 1
    else:
        try:
            anchor = publication_anchor(published)
        except ValueError as err:
            bad = True
            summary.bad_dates += 1
            rec.note = _join(rec.note, f"{err}: dates not normalised")
            article = {k: v for k, v in article.items() if k not in ("date", "published")}
    events = normalize_events(events, anchor)
    if not with_records:
        return events, [], bad
    from .records import build_records

    return events, build_records(events, article, normalize=False), bad


def extract_records(
    extractor: Any,
    chunk: list[Record],
    *,
    batch_size: int,
    output_format: str,
    model_version: str,
    summary: Summary,
    with_records: bool = False,
) -> list[Output]:
    """Output lines (and, ``with_records``, incident records) for one chunk of records, in
    order; a failing record becomes an error record. Shared by the single-process loop and
    the Ray actors."""
    ok = [r for r in chunk if r.error is None]
    if output_format == "events":  # normalised per article below: a bad date is a note, not a crash
        extract = functools.partial(extractor.extract_batch, normalize=False)
    else:
        extract = extractor.annotate_batch
    results = _extract_chunk(extract, [r.text for r in ok], batch_size) if ok else []
    by_index = {r.index: res for r, res in zip(ok, results)}
    outputs = []
    for rec in chunk:
        result = by_index.get(rec.index) if rec.error is None else None
        if rec.error is None and isinstance(result, Exception):
            rec.error = f"extraction failed: {type(result).__name__}: {result}"
        records, bad_date = [], False
        if rec.error is None and output_format == "events":
            try:
                result, records, bad_date = normalise_article(rec, result, summary, with_records)
            except Exception as err:  # noqa: BLE001 - one article, never the corpus
                rec.error = f"normalisation failed: {type(err).__name__}: {err}"
        meta = rec.meta if output_format == "events" else {}
        if rec.error is not None:
            line: dict = {"id": rec.id, **meta, "error": rec.error}
            summary.add_error(rec.id, rec.error)
        elif output_format == "events":
            line = {"id": rec.id, **meta, "events": [e.to_dict() for e in result]}
            summary.events += len(result)
        else:
            line = _preannotation(rec.id, *result, model_version)
            summary.events += sum(s.label == SCHEMA.trigger_label for s in result[0].spans)
        if rec.note:
            line["note"] = rec.note
        outputs.append(Output(line, [r.to_dict() for r in records], bad_date))
    return outputs


def process(
    extractor: Any,
    input_path: str | Path,
    output_path: str | Path,
    *,
    records_path: str | Path | None = None,
    batch_size: int = 32,
    max_chars_per_batch: int = 200_000,
    max_records_per_chunk: int = 1024,
    progress: bool = True,
    output_format: str = "events",
    model_version: str = "ghara",
) -> Summary:
    """Extract every record of ``input_path`` into ``output_path`` (and its incident records
    into ``records_path``: checked, locked, resumed), skipping ids already there. Raises
    :class:`UsageError` before any work."""
    summary = Summary()
    input_files(Path(input_path))  # fail on a missing input before touching the output
    _check_records_option(records_path, output_format)
    with open_outputs(output_path, input_path, records_path) as outputs:
        run(extractor, input_path, outputs, summary, batch_size=batch_size,
            max_chars_per_batch=max_chars_per_batch, max_records_per_chunk=max_records_per_chunk,
            progress=progress, output_format=output_format, model_version=model_version)
    return summary


def _check_records_option(records_path: Any, output_format: str) -> None:
    if records_path is not None and output_format != "events":
        raise UsageError("--records needs --format events (records are built from events)")


def run(
    extractor: Any,
    input_path: str | Path,
    outputs: Outputs,
    summary: Summary,
    *,
    batch_size: int = 32,
    max_chars_per_batch: int = 200_000,
    max_records_per_chunk: int = 1024,
    progress: bool = True,
    output_format: str = "events",
    model_version: str = "ghara",
) -> Summary:
    """The loop over opened outputs: read, chunk, extract, write + fsync each chunk (the
    chunk's incident records first, then its events lines: see :func:`open_outputs`)."""
    from tqdm import tqdm

    start = time.perf_counter()
    summary.repaired = "; ".join(
        r.repaired for r in (outputs.resume, outputs.records_resume) if r and r.repaired) or None
    done = outputs.resume.done
    records_done = outputs.records_resume.done if outputs.records_resume else set()
    with_records = outputs.records is not None
    if with_records:
        summary.incidents = 0
    total = _count_lines(Path(input_path))

    def todo(records: Iterator[Record]) -> Iterator[Record]:
        for rec in records:
            bar.update(1)
            if rec.id in done:
                summary.skipped_done += 1
                continue
            yield rec

    with tqdm(total=total, unit="rec", disable=not progress, desc="extract",
              dynamic_ncols=True, mininterval=1.0) as bar:
        records = todo(read_records(input_path, summary))
        for chunk in _chunks(records, max_chars_per_batch, max_records_per_chunk):
            results = extract_records(extractor, chunk, batch_size=batch_size,
                                      output_format=output_format, model_version=model_version,
                                      summary=summary, with_records=with_records)
            if with_records:
                new = [r for o in results for r in o.records if r["id"] not in records_done]
                summary.incidents_done += sum(len(o.records) for o in results) - len(new)
                _write(outputs.records, new)
                records_done.update(r["id"] for r in new)
                summary.incidents += len(new)
            lines = [o.line for o in results]
            _write(outputs.out, lines)
            done.update(line["id"] for line in lines)
            summary.records += len(lines)
            bar.set_postfix(events=summary.events, errors=summary.errors, refresh=False)
    summary.seconds = time.perf_counter() - start
    return summary


def _count_lines(path: Path) -> int | None:
    """Lines in a plain input file (for the progress bar); None for folders and .gz."""
    if path.is_dir() or path.name.lower().endswith(".gz"):
        return None
    count = 0
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                count += block.count(b"\n")
    except OSError:  # the reader reports it; the bar just has no total
        return None
    return count


# -- model -----------------------------------------------------------------------------------
def load_extractor(model: str, device: str) -> Any:
    """``StrikeExtractor`` from a local directory or a hub id, or a one-line UsageError
    (``model.model_source``: a missing local path is not tried on the hub)."""
    from .extractor import StrikeExtractor

    try:
        source = model_source(model)
    except ModelSourceError as err:
        raise UsageError(str(err)) from None
    try:
        return StrikeExtractor.from_pretrained(source, device=device)
    except Exception as err:  # noqa: BLE001 - any loader failure is one line for the user
        raise UsageError(load_failure(model, err)) from None


# -- command line ---------------------------------------------------------------------------
EPILOG = """exit codes:
  0  every record was extracted
  1  some records are error records, or the input was cut short (all readable records written)
  2  unusable input, output, model or options; nothing was extracted

Resumable: rerun the same command after a kill; ids already in --output are skipped.
--engine ray: see docs/BATCH.md (RAY_ADDRESS=... for an existing cluster)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model.batch",
        description="Extract strike events from a corpus of articles (JSON lines).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model directory or hub id (org/name)")
    parser.add_argument("--input", required=True,
                        help=".jsonl / .jsonl.gz file or a folder (ray: also .parquet, URIs)")
    parser.add_argument("--output", required=True,
                        help="events .jsonl (appended, resumable); ray: a folder")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local: this process; ray: Ray Data actors (docs/BATCH.md)")
    parser.add_argument("--batch-size", type=int, default=32, help="paragraphs per forward pass")
    parser.add_argument("--max-chars-per-batch", type=int, default=200_000,
                        help="characters of text read, extracted and fsync'ed per chunk")
    parser.add_argument("--max-records-per-chunk", type=int, default=1024)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads per process (0: torch's default). On a busy "
                             "or small CPU machine 1 is often fastest for small models")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--format", choices=("events", "labelstudio"), default="events",
                        help="events: StrikeEvent records; labelstudio: pre-annotations "
                             "(every span and relation) for `python -m annotation import "
                             "--predictions`")
    parser.add_argument("--model-version", default=None,
                        help="model_version stored with pre-annotations (default: model name)")
    parser.add_argument("--records", default=None, metavar="PATH",
                        help="also write the incident records (model/records.py, one JSON "
                             "line per record: the input of `python -m model.incidents`); "
                             "resumed with --output. ray: a folder inside --output "
                             "(docs/BATCH.md)")
    parser.add_argument("--actors", type=int, default=0,
                        help="ray: extractor actors (default: one per GPU, else 1)")
    parser.add_argument("--output-format", choices=("jsonl", "parquet"), default="jsonl",
                        help="ray: files written into the --output folder")
    return parser


def _main(args: argparse.Namespace) -> int:
    if args.batch_size < 1 or args.max_chars_per_batch < 1 or args.max_records_per_chunk < 1:
        raise UsageError("--batch-size, --max-chars-per-batch and --max-records-per-chunk "
                         "must be positive")
    model_version = args.model_version or "/".join(Path(str(args.model)).parts[-2:])
    _check_records_option(args.records, args.format)
    if args.engine == "ray":
        from .ray_batch import main_ray

        return main_ray(args, model_version)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    summary = Summary()
    input_files(Path(args.input))  # before the model loads: a missing input costs nothing
    created = [p for p in (args.output, args.records) if p and not Path(p).exists()]
    with open_outputs(args.output, args.input, args.records) as outputs:
        try:
            extractor = load_extractor(args.model, device)
        except UsageError:  # nothing was written: leave no empty output behind
            for path in map(Path, created):
                if path.is_file() and path.stat().st_size == 0:
                    path.unlink()
            raise
        run(extractor, args.input, outputs, summary, batch_size=args.batch_size,
            max_chars_per_batch=args.max_chars_per_batch,
            max_records_per_chunk=args.max_records_per_chunk, progress=not args.no_progress,
            output_format=args.format, model_version=model_version)
    for line in summary.report():
        print(line, flush=True)
    return summary.exit_code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, 1 or 2: see ``EPILOG``)."""
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return EXIT_USAGE


if __name__ == "__main__":
    # run the imported ``model.batch``, not this ``__main__`` copy: model.ray_batch imports
    # model.batch, and there must be one UsageError class for ``main`` to catch
    from model.batch import main as _canonical_main

    sys.exit(_canonical_main())
