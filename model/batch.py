"""Batch extraction over a corpus: JSON lines in, one event record per article out.

::

    python -m model.batch --model DIR --input articles.jsonl --output events.jsonl
    python -m model.batch --model DIR --input folder/ --output events.jsonl --batch-size 64
    accelerate launch -m model.batch --model DIR --input corpus.jsonl.gz --output events.jsonl

Input: a ``.jsonl`` (or ``.jsonl.gz``) file of ``{"id": ..., "text": ...}`` objects, or a
folder of such files and/or ``.txt`` files (one article each, id = file name without
``.txt``), read in sorted name order.

Output: one line per input record, ``{"id": ID, "events": [...]}`` (``StrikeEvent.to_dict``),
or ``{"id": ID, "error": "..."}`` for a line that cannot be used (bad JSON, not an object,
no ``text``, ``text`` not a string, extraction failure). With ``--format labelstudio`` a
record is ``{"id", "result": [Label Studio result items], "score", "model_version"}`` instead:
every predicted span and relation (NFC offsets, as Label Studio stores the text), ready for
``python -m annotation import --predictions``. Nothing is lost and the run never
stops on bad input: a line without an id gets the id ``line:N`` (``FILE:line:N`` when the
input is a folder; N counts from 1); a second line with an id already seen gets
``ID@line:N`` and an error naming the duplicate. Blank lines are skipped.

Streaming: the input is read in chunks of at most ``--max-chars-per-batch`` characters of
text (and ``--max-records-per-chunk`` records); each chunk is extracted in one
``extract_batch`` call (paragraphs sorted by length inside), written in input order, then
flushed and fsync'ed. Memory stays flat in the corpus size; only the set of ids seen is kept.

Resumable: on start, the ids already in the output are skipped. If the run was killed while
writing, the half-written last line is cut off (the file is truncated to the end of its last
complete line) and that record is done again -- the output never holds an id twice.

Several processes (``accelerate launch -m model.batch ...`` or ``torchrun --nproc_per_node
N -m model.batch ...``; one GPU each, ``cuda:LOCAL_RANK``): process r of n takes the input
lines whose index i (counting every line, blank ones too) has ``i % n == r`` and writes
``OUTPUT.rank{r}``. Every process reads (but does not extract) every line, so a duplicate id
is caught across shards too. When all are done (a barrier), rank 0 appends the shards to
``OUTPUT`` (skipping ids already there) and deletes them, so ``OUTPUT`` is in shard order,
not input order. A killed multi-process run resumes from the shards and the merged output
alike; rerun it with the same number of processes (or merge first: a run with any number
of processes skips the ids already in ``OUTPUT``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from annotation.schema import SCHEMA

__all__ = ["main", "process", "read_records", "repair_output", "Record", "Summary"]


@dataclass
class Record:
    """One input line: its id and text, or an error saying why it cannot be used."""

    index: int  # global line index (0-based), used to share lines between processes
    id: str
    text: str | None = None
    error: str | None = None


@dataclass
class Summary:
    records: int = 0
    events: int = 0
    errors: int = 0
    skipped_done: int = 0
    blank_lines: int = 0
    seconds: float = 0.0
    error_examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        return (
            f"records written {self.records}, events {self.events}, errors {self.errors}, "
            f"skipped as done {self.skipped_done}, blank lines {self.blank_lines}, "
            f"{self.seconds:.1f} s ({rate:.1f} records/s)"
        )


# -- input ----------------------------------------------------------------------------------
def _input_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir()
            if p.is_file() and (p.name.endswith((".jsonl", ".jsonl.gz", ".txt")))
        )
        if not files:
            raise SystemExit(f"error: no .jsonl, .jsonl.gz or .txt files in {path}")
        return files
    if not path.is_file():
        raise SystemExit(f"error: input not found: {path}")
    return [path]


def _open_text(path: Path) -> TextIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _parse_line(line: str, index: int, default_id: str) -> Record:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return Record(index, default_id, error=f"bad JSON: {err.msg} (column {err.colno})")
    if not isinstance(obj, dict):
        return Record(index, default_id, error=f"not a JSON object but {type(obj).__name__}")
    raw_id = obj.get("id")
    if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id).strip():
        rid = str(raw_id)
    else:
        rid = default_id
        if raw_id is not None:
            return Record(index, rid, error=f"'id' is empty or not a string/integer: {raw_id!r:.40}")
    if "text" not in obj:
        return Record(index, rid, error="missing 'text'" + (" and 'id'" if raw_id is None else ""))
    if not isinstance(obj["text"], str):
        return Record(index, rid, error=f"'text' is not a string but {type(obj['text']).__name__}")
    if raw_id is None:
        return Record(index, rid, error="missing 'id'")
    return Record(index, rid, text=obj["text"])


def read_records(path: Path, summary: Summary | None = None) -> Iterator[Record]:
    """Every record of the input, in order (blank lines skipped, counted in ``summary``)."""
    files = _input_files(path)
    folder = path.is_dir()
    index = -1
    for file in files:
        if file.name.endswith(".txt"):
            index += 1
            text = file.read_text(encoding="utf-8", errors="replace")
            yield Record(index, file.name[: -len(".txt")], text=text)
            continue
        with _open_text(file) as handle:
            for number, line in enumerate(handle, start=1):
                index += 1
                if not line.strip():
                    if summary is not None:
                        summary.blank_lines += 1
                    continue
                default_id = f"{file.name}:line:{number}" if folder else f"line:{number}"
                yield _parse_line(line, index, default_id)


# -- output ---------------------------------------------------------------------------------
def repair_output(path: Path) -> set[str]:
    """Ids already written to ``path``; cuts a half-written (or corrupt) tail off the file.

    The file is truncated at the first line that is not a complete JSON record with an id,
    so a record cut by a kill is simply done again.
    """
    done: set[str] = set()
    if not path.exists():
        return done
    good_end = 0
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                obj = json.loads(raw)
                rid = obj["id"]
            except (ValueError, KeyError, TypeError):
                break
            done.add(str(rid))
            good_end += len(raw)
    if good_end != path.stat().st_size:
        with open(path, "r+b") as handle:
            handle.truncate(good_end)
            handle.flush()
            os.fsync(handle.fileno())
    return done


def _write(handle, records: list[dict]) -> None:
    for rec in records:
        handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


# -- the loop --------------------------------------------------------------------------------
def _chunks(
    records: Iterator[Record], max_chars: int, max_records: int
) -> Iterator[list[Record]]:
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


def process(
    extractor: Any,
    input_path: str | Path,
    output_path: str | Path,
    *,
    batch_size: int = 32,
    max_chars_per_batch: int = 200_000,
    max_records_per_chunk: int = 1024,
    rank: int = 0,
    world_size: int = 1,
    done: set[str] | None = None,
    progress: bool = True,
    output_format: str = "events",
    model_version: str = "ghara",
) -> Summary:
    """Extract events for every record of ``input_path`` (this process's share) into
    ``output_path``, skipping ids already there (and those in ``done``)."""
    from tqdm import tqdm

    input_path, output_path = Path(input_path), Path(output_path)
    summary = Summary()
    start = time.perf_counter()
    done = set(done or ()) | repair_output(output_path)
    seen: dict[str, int] = {}  # id -> line index of its first occurrence
    total = _count_lines(input_path)

    def mine(records: Iterator[Record]) -> Iterator[Record]:
        for rec in records:
            bar.update(1)
            if rec.id in seen:  # checked on every line, so shards never share an id
                rec = Record(rec.index, f"{rec.id}@line:{rec.index + 1}",
                             error=f"duplicate id {rec.id!r} (first at input line "
                                   f"{seen[rec.id] + 1})")
            seen.setdefault(rec.id, rec.index)
            if rec.index % world_size != rank:
                continue
            if rec.id in done:
                summary.skipped_done += 1
                continue
            yield rec

    output_path.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=total, unit="line", disable=not progress, desc=f"extract[{rank}]",
              dynamic_ncols=True, mininterval=1.0) as bar, open(output_path, "a", encoding="utf-8") as out:
        records = mine(read_records(input_path, summary))
        for chunk in _chunks(records, max_chars_per_batch, max_records_per_chunk):
            ok = [r for r in chunk if r.error is None]
            extract = (extractor.extract_batch if output_format == "events"
                       else extractor.annotate_batch)
            results = _extract_chunk(extract, [r.text for r in ok], batch_size) if ok else []
            by_index = {r.index: res for r, res in zip(ok, results)}
            lines = []
            for rec in chunk:
                result = by_index.get(rec.index) if rec.error is None else None
                if rec.error is None and isinstance(result, Exception):
                    rec.error = f"extraction failed: {type(result).__name__}: {result}"
                if rec.error is not None:
                    lines.append({"id": rec.id, "error": rec.error})
                    summary.errors += 1
                    if len(summary.error_examples) < 5:
                        summary.error_examples.append(f"{rec.id}: {rec.error}")
                elif output_format == "events":
                    lines.append({"id": rec.id, "events": [e.to_dict() for e in result]})
                    summary.events += len(result)
                else:
                    lines.append(_preannotation(rec.id, *result, model_version))
                    summary.events += sum(s.label == SCHEMA.trigger_label for s in result[0].spans)
                done.add(rec.id)
            _write(out, lines)
            summary.records += len(lines)
            bar.set_postfix(events=summary.events, errors=summary.errors, refresh=False)
    summary.seconds = time.perf_counter() - start
    return summary


def _count_lines(path: Path) -> int | None:
    """Lines in a plain input file (for the progress bar); None for folders and .gz."""
    if path.is_dir() or path.name.endswith(".gz"):
        return None
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
    return count


def merge_shards(output_path: Path, world_size: int) -> int:
    """Append ``OUTPUT.rank*`` to ``OUTPUT`` (ids not yet there) and delete the shards."""
    done = repair_output(output_path)
    added = 0
    with open(output_path, "a", encoding="utf-8") as out:
        for rank in range(world_size):
            shard = output_path.with_name(f"{output_path.name}.rank{rank}")
            if not shard.exists():
                continue
            repair_output(shard)
            with open(shard, encoding="utf-8") as handle:
                for line in handle:
                    rid = str(json.loads(line)["id"])
                    if rid not in done:
                        out.write(line)
                        done.add(rid)
                        added += 1
            out.flush()
            os.fsync(out.fileno())
            shard.unlink()
    return added


# -- command line ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model.batch",
        description="Extract strike events from a corpus of articles (JSON lines).",
    )
    parser.add_argument("--model", required=True, help="model directory or hub id")
    parser.add_argument("--input", required=True, help=".jsonl / .jsonl.gz file or a folder")
    parser.add_argument("--output", required=True, help="events .jsonl (appended, resumable)")
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
    return parser


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from the launcher's environment (``accelerate launch``
    and ``torchrun`` both set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT). With more than
    one process a gloo process group is opened, only for the final barrier (so it works on
    CPU and GPU alike); its timeout is a week, since ranks may finish hours apart."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    import datetime

    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="gloo", timeout=datetime.timedelta(days=7))
    return rank, world, local_rank


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rank, world, local_rank = _distributed()
    if args.batch_size < 1 or args.max_chars_per_batch < 1:
        raise SystemExit("error: --batch-size and --max-chars-per-batch must be positive")
    output = Path(args.output)
    if args.device:
        device = args.device
    else:
        import torch

        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from .extractor import StrikeExtractor

    extractor = StrikeExtractor.from_pretrained(args.model, device=device)
    shard = output if world == 1 else output.with_name(f"{output.name}.rank{rank}")
    done = repair_output(output) if world > 1 and output.exists() else set()
    summary = process(
        extractor, args.input, shard,
        batch_size=args.batch_size,
        max_chars_per_batch=args.max_chars_per_batch,
        max_records_per_chunk=args.max_records_per_chunk,
        rank=rank, world_size=world, done=done,
        progress=not args.no_progress,
        output_format=args.format,
        model_version=args.model_version or "/".join(Path(str(args.model)).parts[-2:]),
    )
    prefix = f"[rank {rank}/{world}] " if world > 1 else ""
    print(prefix + summary.line(), flush=True)
    for example in summary.error_examples:
        print(prefix + "  error: " + example, flush=True)
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
        if rank == 0:
            added = merge_shards(output, world)
            print(f"merged {world} shards into {output}: {added} records", flush=True)
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
