"""One record per incident across articles: merge the records of many articles.

::

    python -m model.incidents --input records.jsonl [more.jsonl ...] --output incidents.jsonl

Input: JSON Lines of :class:`model.records.Record` (``build_records`` per article; also this
command's own output, so merging merged output is allowed and changes nothing). Output: the
same shape, where records of different articles that report the same incident became one
record (every report, source and piece of evidence kept; casualty min/max across sources and
the conservative figure; first and last reported day).

Linking rule (:func:`link`), checked between the *reports* two records hold (the per-article
records they were built from), never between two reports of one article (the article's own
grouping already decided those are different incidents):
kind ``incident`` on both sides; date intervals overlap; a place key in common (the same
GeoNames id, or the same normalised name when unresolved; a report's keys are its most
specific places below country level); actors compatible (either side
empty, or a content word in common). Linked records are merged unless the merged record
would hold two reports of one article or two actors that share no word (a report naming no
actor must not chain the coalition's strike to Russia's): records are taken in the sorted
order below, which does not depend on the input order, and because links are between
reports (not the merged record's widened interval) and the two refusals are properties of
the sets, merging the output again links nothing new. Aggregates, planned strikes and records without a date or place pass through unchanged. A record id seen twice (the same file given twice, or the output given with its
input) is kept once and counted.

Near-linear and memory bounded (blocking by day and place): the input is sorted by the
start of its date interval in runs of ``--chunk-records`` (spilled to temporary files, then
merged with ``heapq.merge``); a sweep over the sorted stream keeps only the records whose
interval is still open, indexed by place key; a component is written as soon as no later
record can reach it. Memory: one sort run plus the records of an open window of days.

Exit codes: 0 every line merged or passed through; 1 some lines were unusable (each named on
stderr with its file and line, counted, skipped; the rest is written); 2 unusable options,
input or output (an existing ``--output`` without ``--overwrite``; nothing is written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = ["Profile", "link", "merge_stream", "main", "MergeSummary"]

_NEVER = 10**9  # sort position of records that cannot be linked (after every real day)


@dataclass(frozen=True)
class Profile:
    """What linking needs from one report: its article, interval (ordinals), keys."""

    article_id: str
    start: int
    end: int
    places: frozenset[str]
    actors: frozenset[str]


def link(a: Profile, b: Profile) -> bool:
    """Whether two reports (of different articles) report the same incident."""
    return (a.article_id != b.article_id and a.start <= b.end and b.start <= a.end
            and bool(a.places & b.places)
            and (not a.actors or not b.actors or bool(a.actors & b.actors)))


def profiles(record: dict[str, Any]) -> list[Profile]:
    """The linkable reports of a record dict (kind incident, dated, placed)."""
    out = []
    for r in record["reports"]:
        date = r.get("date")
        if r.get("kind", record.get("kind")) != "incident" or not date or not r.get("place_keys"):
            continue
        out.append(Profile(str(r["article_id"]), dt.date.fromisoformat(date["start"]).toordinal(),
                           dt.date.fromisoformat(date["end"]).toordinal(),
                           frozenset(r["place_keys"]), frozenset(r.get("actor_keys") or ())))
    return out


@dataclass
class MergeSummary:
    lines: int = 0
    bad: int = 0
    records_out: int = 0
    merged_records: int = 0  # output records made of more than one input record
    passed_through: int = 0  # not linkable (aggregate, planned, no date or place)
    duplicates: int = 0  # a record id seen again (the same file given twice): kept once
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.lines} input records -> {self.records_out} records "
                f"({self.merged_records} merged from several, {self.passed_through} not "
                f"linkable), {self.duplicates} duplicate ids dropped, {self.bad} unusable "
                f"lines, {self.seconds:.1f}s")


# -- reading and sorting --------------------------------------------------------------------
def _parse(raw: str, where: str) -> tuple[tuple[int, int, str], list[Profile], str]:
    record = json.loads(raw)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if not isinstance(record.get("id"), str) or not isinstance(record.get("reports"), list):
        raise ValueError("not a record (needs a string 'id' and a 'reports' list)")
    profs = profiles(record)
    if not profs:
        return (_NEVER, _NEVER, record["id"]), [], raw
    key = (min(p.start for p in profs), max(p.end for p in profs), record["id"])
    return key, profs, raw


def _entries(paths: Sequence[Path], summary: MergeSummary, err: TextIO) -> Iterator[tuple]:
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, raw in enumerate(handle, 1):
                raw = raw.strip()
                if not raw:
                    continue
                summary.lines += 1
                try:
                    key, profs, raw = _parse(raw, f"{path}:{number}")
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    summary.bad += 1
                    msg = f"{path}:{number}: skipped: {type(e).__name__}: {e}"[:300]
                    print(msg, file=err)
                    if len(summary.problems) < 20:
                        summary.problems.append(msg)
                    continue
                yield key, profs, raw


def _encode(entry: tuple) -> str:
    (start, end, rid), profs, raw = entry
    p = [[x.article_id, x.start, x.end, sorted(x.places), sorted(x.actors)] for x in profs]
    return f"{json.dumps([start, end, rid, p], ensure_ascii=False)}\t{raw}\n"


def _decode(line: str) -> tuple:
    head, raw = line.rstrip("\n").split("\t", 1)
    start, end, rid, p = json.loads(head)
    profs = [Profile(a, s, e, frozenset(pl), frozenset(ac)) for a, s, e, pl, ac in p]
    return (start, end, rid), profs, raw


def sorted_entries(entries: Iterable[tuple], chunk: int, tmp: Path) -> Iterator[tuple]:
    """``entries`` by (start, end, id): sorted runs of ``chunk`` spilled to ``tmp``, merged."""
    runs: list[Path] = []
    buffer: list[tuple] = []
    for entry in entries:
        buffer.append(entry)
        if len(buffer) >= chunk:
            runs.append(_spill(buffer, tmp, len(runs)))
            buffer = []
    buffer.sort(key=lambda e: e[0])
    if not runs:
        yield from buffer
        return
    if buffer:
        runs.append(_spill(buffer, tmp, len(runs)))
    handles = [open(r, encoding="utf-8") for r in runs]
    try:
        streams = [(_decode(line) for line in h) for h in handles]
        yield from heapq.merge(*streams, key=lambda e: e[0])
    finally:
        for h in handles:
            h.close()


def _spill(buffer: list[tuple], tmp: Path, index: int) -> Path:
    buffer.sort(key=lambda e: e[0])
    path = tmp / f"run{index:05d}.tsv"
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(_encode(e) for e in buffer)
    return path


# -- the sweep ------------------------------------------------------------------------------
def merge_stream(entries: Iterable[tuple], summary: MergeSummary,
                 err: TextIO = sys.stderr) -> Iterator[str]:
    """JSON lines of the merged records from ``entries`` sorted by (start, end, id).

    Records that link but cannot be read as :class:`model.records.Record` (a malformed line
    that still had an id and reports) are written unmerged, named on ``err`` and counted as
    unusable: nothing is lost and the run goes on."""
    parent: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    comp_end: dict[int, int] = {}
    comp_articles: dict[int, set[str]] = {}
    comp_actors: dict[int, set[frozenset[str]]] = {}  # the distinct non-empty actor key sets
    data: dict[int, tuple[list[Profile], str]] = {}
    by_place: dict[str, set[int]] = {}
    expiry: list[tuple[int, int]] = []  # (end, node): leaves the place index after `end`
    closing: list[tuple[int, int]] = []  # (component end, root): written after that day

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def emit(root: int) -> str:
        nodes = sorted(members.pop(root))
        comp_end.pop(root)
        comp_articles.pop(root)
        comp_actors.pop(root)
        raws = [data.pop(n)[1] for n in nodes]
        for n in nodes:
            parent.pop(n)
        summary.records_out += 1
        if len(raws) == 1:
            return raws[0] + "\n"
        from .records import Record, merge_records

        try:
            merged = merge_records([Record.from_dict(json.loads(r)) for r in raws])
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            ids = ", ".join(str(json.loads(r).get("id")) for r in raws)
            msg = f"records {ids}: not merged: {type(e).__name__}: {e}"[:300]
            print(msg, file=err)
            summary.bad += 1
            summary.records_out += len(raws) - 1
            if len(summary.problems) < 20:
                summary.problems.append(msg)
            return "".join(r + "\n" for r in raws)
        summary.merged_records += 1
        return json.dumps(merged.to_dict(), ensure_ascii=False) + "\n"

    def close_before(day: int) -> Iterator[str]:
        while expiry and expiry[0][0] < day:
            end, node = heapq.heappop(expiry)
            if node in data:
                for key in _node_places(data[node][0]):
                    bucket = by_place.get(key)
                    if bucket is not None:
                        bucket.discard(node)
                        if not bucket:
                            del by_place[key]
        while closing and closing[0][0] < day:
            end, root = heapq.heappop(closing)
            if root in members and parent.get(root) == root and comp_end[root] == end:
                yield emit(root)

    node = 0
    last_key = None
    for key, profs, raw in entries:
        if key == last_key:  # sorted: a repeated id (with its interval) comes right after
            summary.duplicates += 1
            continue
        last_key = key
        start, end, _rid = key
        if not profs:
            summary.passed_through += 1
            summary.records_out += 1
            yield from close_before(_NEVER + 1)
            yield raw + "\n"
            continue
        yield from close_before(start)
        node += 1
        parent[node], members[node], comp_end[node] = node, [node], end
        comp_articles[node] = {p.article_id for p in profs}
        comp_actors[node] = {p.actors for p in profs if p.actors}
        data[node] = (profs, raw)
        places = _node_places(profs)
        candidates = set().union(*(by_place.get(k, ()) for k in places))
        for other in sorted(candidates):
            if find(other) == find(node):
                continue
            ra, rb = find(node), find(other)
            if _conflict(comp_articles[ra], comp_actors[ra], comp_articles[rb], comp_actors[rb]):
                continue
            if any(link(a, b) for a in profs for b in data[other][0]):
                if len(members[ra]) < len(members[rb]):
                    ra, rb = rb, ra
                parent[rb] = ra
                members[ra].extend(members.pop(rb))
                comp_end[ra] = max(comp_end[ra], comp_end.pop(rb))
                comp_articles[ra] |= comp_articles.pop(rb)
                comp_actors[ra] |= comp_actors.pop(rb)
        for key in places:
            by_place.setdefault(key, set()).add(node)
        heapq.heappush(expiry, (end, node))
        root = find(node)
        heapq.heappush(closing, (comp_end[root], root))
    yield from close_before(_NEVER + 1)
    for root in sorted(r for r in members if parent.get(r) == r):
        yield emit(root)


def _conflict(articles_a: set[str], actors_a: set[frozenset[str]], articles_b: set[str],
              actors_b: set[frozenset[str]]) -> bool:
    """Whether two incidents may not become one: an article in common (its own grouping
    kept them apart) or two actors that share no word (the coalition's strike is not
    Russia's, even when a report naming neither links to both)."""
    return bool(articles_a & articles_b) or any(
        not (a & b) for a in actors_a for b in actors_b)


def _node_places(profs: Sequence[Profile]) -> set[str]:
    return set().union(*(p.places for p in profs))


# -- command line ---------------------------------------------------------------------------
EPILOG = """exit codes:
  0  every input line was merged or passed through
  1  some input lines were unusable (named on stderr, counted, skipped; the rest written)
  2  unusable options, input or output (e.g. --output exists and no --overwrite); nothing written
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model.incidents", epilog=EPILOG,
        description="Merge records of different articles that report the same incident.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", required=True, nargs="+", help="records JSON Lines file(s)")
    parser.add_argument("--output", required=True, help="incidents JSON Lines file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    parser.add_argument("--chunk-records", type=int, default=100_000,
                        help="records sorted in memory at once (bounds memory; default 100000)")
    return parser


def run(inputs: Sequence[Path], output: Path, chunk: int = 100_000,
        err: TextIO = sys.stderr) -> MergeSummary:
    """Merge ``inputs`` into ``output`` (written to a temporary file, then renamed)."""
    summary = MergeSummary()
    began = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ghara-incidents-", dir=output.parent) as tmp:
        partial = Path(tmp) / "output.jsonl"
        with open(partial, "w", encoding="utf-8") as out:
            entries = sorted_entries(_entries(inputs, summary, err), chunk, Path(tmp))
            for line in merge_stream(entries, summary, err):
                out.write(line)
        os.replace(partial, output)
    summary.seconds = time.perf_counter() - began
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see ``EPILOG``)."""
    args = build_parser().parse_args(argv)
    inputs = [Path(p) for p in args.input]
    output = Path(args.output)
    for path in inputs:
        if not path.is_file():
            print(f"error: --input {path}: no such file", file=sys.stderr)
            return 2
        if path.resolve() == output.resolve():
            print(f"error: --output {output} is also an --input", file=sys.stderr)
            return 2
    if output.exists() and not args.overwrite:
        print(f"error: --output {output} exists; pass --overwrite to replace it", file=sys.stderr)
        return 2
    if args.chunk_records < 1:
        print("error: --chunk-records must be at least 1", file=sys.stderr)
        return 2
    summary = run(inputs, output, args.chunk_records)
    print(summary.line())
    return 1 if summary.bad else 0


if __name__ == "__main__":
    sys.exit(main())
