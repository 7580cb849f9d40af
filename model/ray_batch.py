"""``python -m model.batch --engine ray``: the same extraction on a Ray cluster (Ray Data).

::

    python -m model.batch --engine ray --model DIR --input corpus/ --output events/
    RAY_ADDRESS=ray://head:10001 python -m model.batch --engine ray ...   # an existing cluster

Why Ray Data: it streams the corpus through a pool of actors, each holding one
``StrikeExtractor`` (one GPU each where CUDA exists), on one machine or many, and its
checkpointing (Ray >= 2.50: ``DataContext.checkpoint_config``) gives exactly-once output by
id across a killed and rerun job: a data file and its checkpoint are committed together
(two-phase), and the rerun skips committed ids and deletes the files of uncommitted ones.

Pipeline: read (JSON lines / ``.jsonl.gz`` / ``.txt`` through :class:`GharaLinesDatasource`,
which turns every bad line into an error row exactly like the single-process reader; or
Parquet with ``id`` and ``text`` columns) -> ``map_batches`` with :class:`ExtractBatch`
(``ActorPoolStrategy``; blocks cut at ``--max-chars-per-batch`` characters) -> JSON lines
(``--output-format jsonl``: the very lines the local engine writes) or Parquet (columns
``id``, ``error``, ``record`` = that JSON line) files in the ``--output`` folder.

``--records FOLDER`` (a folder inside ``--output``, e.g. ``events/records``): each output
file's incident records go to ``FOLDER/<same file name>.jsonl`` (``Record.to_dict()`` lines,
the input of ``python -m model.incidents``), written just before that file. The actors build
them (column ``records`` of the extracted block), so they share the block's checkpoint:
Ray's recovery deletes the data files of an uncommitted checkpoint by file-name prefix,
recursively under ``--output``, which removes the records file with its events file. That
is why the folder must be inside ``--output``; a records folder elsewhere could keep the
records of a block that is then done again.

Differences from the local engine (docs/BATCH.md): the output is a folder of files in no
particular order; a repeated id is caught within a file as it is read, and across files
only after the job, from the checkpoint (named in the summary, exit 1); the checkpoint
lives in ``OUTPUT.checkpoint`` and is kept after success (delete it to redo everything).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import itertools
import json
import os
import posixpath
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotation.articles import (MAX_LINE_BYTES, ArticleReader, InputError, article_files,
                                 iter_lines)

from .batch import (EXAMPLES, META_KEYS, Record, Summary, UsageError, _lock, encode_line,
                    extract_records, records_of)
from .model_source import ModelSourceError, model_source

__all__ = ["GharaLinesDatasource", "ExtractBatch", "LinesSink", "run_ray", "main_ray"]

COLUMNS = ("id", "text", "error", "note")
#: Ray's block size in bytes per character of --max-chars-per-batch (Arabic UTF-8)
BYTES_PER_CHAR = 2
COUNTS = ("records", "errors", "events", "incidents", "bad_dates")


def _rows(records: list[Record]) -> Any:
    import pyarrow as pa

    return pa.table({
        "id": pa.array([r.id for r in records], pa.string()),
        "text": pa.array([r.text for r in records], pa.string()),
        "error": pa.array([r.error for r in records], pa.string()),
        "note": pa.array([r.note for r in records], pa.string()),
        # url, source, date... of the line (JSON; ASCII so a lone surrogate cannot break it)
        "meta": pa.array([json.dumps(r.meta) if r.meta else None for r in records],
                         pa.string()),
    })


def _json_value(value: Any) -> Any:
    """A Parquet cell as a JSON value (timestamps and dates as ISO text)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def _metas(batch: Any) -> list[dict[str, Any]]:
    """Each row's article fields: the ``meta`` column of our JSON-lines reader, or the
    META_KEYS columns a Parquet input has."""
    if "meta" in batch.column_names:
        return [json.loads(m) if m else {} for m in batch.column("meta").to_pylist()]
    cols = {k: batch.column(k).to_pylist() for k in META_KEYS if k in batch.column_names}
    return [{k: _json_value(v[i]) for k, v in cols.items() if v[i] is not None}
            for i in range(batch.num_rows)]


class _GzipStream(gzip.GzipFile):
    """A gzip reader that also closes the stream it reads (``GzipFile`` leaves it open)."""

    def __init__(self, raw: Any):
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def _datasource_class() -> type:
    """Defined lazily so that importing this module does not import Ray."""
    from ray.data.datasource import FileBasedDatasource

    class _Source(FileBasedDatasource):
        """JSON lines / ``.jsonl.gz`` / ``.txt`` -> rows ``id, text, error, note``; a bad line
        (bad JSON, no text, lone surrogate, over-long, truncated gzip tail...) is an error
        row, never a failed read task."""

        _FILE_EXTENSIONS = ["jsonl", "gz", "txt", "JSONL", "GZ", "TXT"]

        def __init__(self, paths: Any, max_chars: int, **kwargs: Any):
            super().__init__(paths, **kwargs)
            self.max_chars = max_chars

        def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
            """A ``.gz`` is decompressed here with Python's gzip, read with ``read1``, as
            the local engine reads it: Arrow's decompressing stream failed on a truncated
            file before giving back any of its complete lines."""
            if not path.lower().endswith(".gz"):
                return super()._open_input_source(filesystem, path, **open_args)
            return _GzipStream(filesystem.open_input_stream(path, compression=None))

        def _read_stream(self, f: Any, path: str) -> Iterator[Any]:
            name = posixpath.basename(path)
            summary = Summary()
            reader, counter = ArticleReader(), itertools.count()  # ids: within this file
            if name.lower().endswith(".txt"):
                data = f.read(MAX_LINE_BYTES + 1)
                items = iter([reader.text_file(name, data if len(data) <= MAX_LINE_BYTES
                                               else None)])
            else:
                read = f.read1 if isinstance(f, gzip.GzipFile) else f.read
                items = reader.lines(path, iter_lines(read, block=1 << 16), folder=True)
            chunk: list[Record] = []
            chars = 0
            for rec in records_of(items, reader, summary, folder=True, counter=counter):
                chunk.append(rec)
                chars += len(rec.text or "")
                if chars >= self.max_chars:
                    yield _rows(chunk)
                    chunk, chars = [], 0
            for problem in summary.input_problems:  # a truncated file: an error row says so
                chunk.append(Record(next(counter), f"{name}:unreadable", error=problem))
            if chunk:
                yield _rows(chunk)

    return _Source


def GharaLinesDatasource(paths: Any, max_chars: int = 200_000, **kwargs: Any) -> Any:  # noqa: N802
    """A Ray Data datasource for our JSON-lines input (see :func:`_datasource_class`)."""
    return _datasource_class()(paths, max_chars, **kwargs)


class ExtractBatch:
    """``map_batches`` callable class: one ``StrikeExtractor`` per actor, loaded once."""

    def __init__(self, model: str, device: str, batch_size: int, output_format: str,
                 model_version: str, threads: int = 0, with_records: bool = False):
        if threads:
            import torch

            torch.set_num_threads(threads)
        from .batch import load_extractor

        self.extractor = load_extractor(model, device)
        self.batch_size = batch_size
        self.output_format = output_format
        self.model_version = model_version
        self.with_records = with_records

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        cols = {c: batch.column(c).to_pylist() if c in batch.column_names else
                [None] * batch.num_rows for c in COLUMNS}
        records = []
        rows = zip(*(cols[c] for c in COLUMNS), _metas(batch))
        for i, (rid, text, error, note, meta) in enumerate(rows):
            if error is None and not isinstance(text, str):  # Parquet input: a null text
                error = "missing 'text'"
            records.append(Record(i, str(rid), text=text if error is None else None,
                                  error=error, note=note, meta=meta))
        outputs = extract_records(self.extractor, records, batch_size=self.batch_size,
                                  output_format=self.output_format,
                                  model_version=self.model_version, summary=Summary(),
                                  with_records=self.with_records)
        lines = [o.line for o in outputs]
        return pa.table({
            "id": pa.array([line["id"] for line in lines], pa.string()),
            "error": pa.array([line.get("error") for line in lines], pa.string()),
            "events": pa.array([_events(line) for line in lines], pa.int64()),
            "record": pa.array([encode_line(line).decode("utf-8") for line in lines],
                               pa.string()),
            # this article's incident records, JSON lines ("" for none): see --records
            "records": pa.array([b"".join(encode_line(r) for r in o.records).decode("utf-8")
                                 for o in outputs], pa.string()),
            "incidents": pa.array([len(o.records) for o in outputs], pa.int64()),
            "bad_dates": pa.array([int(o.bad_date) for o in outputs], pa.int64()),
        })


def _events(line: dict) -> int:
    """Events in one output line: strikes, or STRIKE spans of a pre-annotation."""
    from annotation.schema import SCHEMA

    if "events" in line:
        return len(line["events"])
    return sum(SCHEMA.trigger_label in (r.get("value") or {}).get("labels", ())
               for r in line.get("result", ()))


def committed(checkpoint: str) -> int:
    """Ids in the committed files of a local Ray checkpoint (what a rerun skips); 0 when
    there is none or it is not local."""
    import pyarrow.parquet as pq

    folder = Path(checkpoint.removeprefix("file://"))
    if not _is_local(checkpoint) or not folder.is_dir():
        return 0
    return sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet"))


def repeated_ids(checkpoint: str) -> list[str]:
    """Ids committed more than once in a local Ray checkpoint, sorted: the same id in two
    input files of one run (a repeat within a file is an error row; a rerun skips the ids
    already done, but within one run Ray does not compare ids across files). Reads the
    checkpoint's id column, as Ray's own filter does ([] when it is not local)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder = Path(checkpoint.removeprefix("file://"))
    files = sorted(folder.glob("*.parquet")) if _is_local(checkpoint) and folder.is_dir() else []
    if not files:
        return []
    ids = pa.chunked_array([c for f in files
                            for c in pq.read_table(f, columns=["id"]).column("id").chunks],
                           pa.string())
    counts = pc.value_counts(ids)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return sorted(repeated.to_pylist())


def _sink_classes() -> tuple[type, type]:
    from ray.data._internal.planner.plan_write_op import WRITE_UUID_KWARG_NAME
    from ray.data.datasource import BlockBasedFileDatasink
    from ray.data.datasource.datasink import WriteResult

    class _Counting:
        """Each write returns its counts; the driver adds them up (exit code, summary).
        With ``records`` (a folder path relative to the output folder) each data file's
        incident records are written first, to ``records/<its file name>.jsonl``."""

        totals: dict[str, int]
        records: str | None = None

        def on_write_start(self, *args: Any, **kwargs: Any) -> None:
            super().on_write_start(*args, **kwargs)
            if self.records:
                self._create_dir(posixpath.join(self.path, self.records))

        def write_block(self, block: Any, block_index: int, ctx: Any) -> None:
            if self.records:
                text = "".join(block.to_arrow().column("records").to_pylist())
                if text:  # same base name as the data file: cleaned up with it on recovery
                    name = self.filename_provider.get_filename_for_task(
                        ctx.kwargs[WRITE_UUID_KWARG_NAME], ctx.task_idx)
                    path = posixpath.join(self.path, self.records,
                                          posixpath.splitext(name)[0] + ".jsonl")
                    with self.open_output_stream(path) as handle:
                        handle.write(text.encode("utf-8"))
            super().write_block(block, block_index, ctx)

        def write(self, blocks: Any, ctx: Any) -> dict[str, int]:
            blocks = list(blocks)
            super().write(blocks, ctx)
            counts = dict.fromkeys(COUNTS, 0)
            for block in blocks:
                table = block if hasattr(block, "column") else None
                if table is None or table.num_rows == 0:
                    continue
                counts["records"] += table.num_rows
                counts["errors"] += table.num_rows - table.column("error").null_count
                for name in ("events", "incidents", "bad_dates"):
                    counts[name] += sum(table.column(name).to_pylist())
            return counts

        def on_write_complete(self, write_result: WriteResult) -> None:
            super().on_write_complete(write_result)
            self.totals = {k: sum(r.get(k, 0) for r in write_result.write_returns if r)
                           for k in COUNTS}

    class Lines(_Counting, BlockBasedFileDatasink):
        def __init__(self, path: str, **kwargs: Any):
            super().__init__(path, file_format="jsonl", **kwargs)

        def write_block_to_file(self, block: Any, file: Any) -> None:
            file.write("".join(block.to_arrow().column("record").to_pylist()).encode("utf-8"))

    class Parquet(_Counting, BlockBasedFileDatasink):
        def __init__(self, path: str, **kwargs: Any):
            super().__init__(path, file_format="parquet", **kwargs)

        def write_block_to_file(self, block: Any, file: Any) -> None:
            import pyarrow.parquet as pq

            pq.write_table(block.to_arrow().select(["id", "error", "record"]), file)

    return Lines, Parquet


def LinesSink(path: str, output_format: str = "jsonl", records: str | None = None) -> Any:  # noqa: N802
    """The output datasink: our JSON lines (or Parquet) files in the folder ``path``, and
    with ``records`` (a sub-folder of ``path``, relative) the incident records files."""
    lines, parquet = _sink_classes()
    sink = (lines if output_format == "jsonl" else parquet)(path)
    sink.records = records
    return sink


def read_input(input_path: str | list[str], max_chars_per_batch: int,
               separate_tasks: bool = False) -> Any:
    """The input as a Ray Dataset of rows ``id, text, error, note, meta`` (JSON lines, .txt)
    or ``id, text`` and the article columns (Parquet), in blocks of about
    ``max_chars_per_batch`` characters: one block is one actor call, as one chunk is in the
    local engine. Sets the current ``DataContext``'s block size.

    Ray fuses a read into the actors that map its blocks, so that each file is read inside
    the actor that extracts it: nothing crosses the object store, but one file's blocks all
    go to one actor. ``separate_tasks`` (several actors) keeps the reads apart, as tasks of
    half a CPU slot, so that the blocks of a corpus held in one file spread over all actors."""
    import ray

    ctx = ray.data.DataContext.get_current()
    # blocks (what one actor call extracts) of about max_chars_per_batch characters, as the
    # local engine's chunks: Ray shapes blocks by their Arrow size in bytes, and an Arabic
    # letter is 2 bytes of UTF-8
    ctx.target_max_block_size = BYTES_PER_CHAR * max_chars_per_batch
    if _is_parquet(input_path):
        import pyarrow as pa

        probe = ray.data.read_parquet(input_path)  # lists the files once
        schema = probe.schema().base_schema
        if "id" not in schema.names or "text" not in schema.names:
            raise UsageError(f"{input_path}: Parquet input needs the columns 'id' and 'text' "
                             f"(it has {', '.join(schema.names)})")
        columns = ["id", "text"] + [k for k in META_KEYS if k in schema.names]
        # ids are read as strings: Ray's checkpoint compares them with the (string) ids
        # written, and an integer id column made every rerun fail. The schema also names
        # the columns read (the others are not)
        read_as = pa.schema([pa.field("id", pa.string())]
                            + [schema.field(c) for c in columns[1:]])
        read = functools.partial(ray.data.read_parquet, input_path, schema=read_as)
        files = len(probe.input_files())
    else:
        read = functools.partial(ray.data.read_datasource,
                                 GharaLinesDatasource(input_path, max_chars_per_batch))
        files = len(read().input_files())  # the datasource listed them: no second listing
    # one read task per file, its blocks not split further: Ray's default cuts the blocks
    # of a corpus held in few files into more, smaller ones (2,000 articles in one file: 8
    # blocks of 250), and smaller extraction batches pad more (the actor took about 10 % longer)
    read = functools.partial(read, override_num_blocks=max(1, files))
    return read(num_cpus=0.5) if separate_tasks else read()


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set while the block runs (for the processes it starts)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _actor_niceness() -> str:
    """The extractor actors' niceness: ``GHARA_RAY_ACTOR_NICENESS``, default 0."""
    return os.environ.get("GHARA_RAY_ACTOR_NICENESS", "0")


def checkpoint_path(output: str) -> str:
    """Where the job writing ``output`` keeps its checkpoint: ``OUTPUT.checkpoint``."""
    return output.rstrip("/") + ".checkpoint"


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def run_ray(
    model: str,
    input_path: str,
    output: str,
    *,
    actors: int = 0,
    device: str | None = None,
    batch_size: int = 32,
    max_chars_per_batch: int = 200_000,
    output_format: str = "jsonl",
    record_format: str = "events",
    model_version: str = "ghara",
    threads: int = 0,
    checkpoint: str | None = None,
    records: str | None = None,
) -> Summary:
    """Run the Ray Data pipeline; returns what it wrote (records, errors, events, incident
    records). ``records``: the incident records folder, relative to ``output``."""
    import ray
    from ray.data.checkpoint import CheckpointConfig

    start = time.perf_counter()
    own_cluster = False
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        # a fresh local cluster: a modest object store, and two CPU slots more than cores,
        # since the read / checkpoint-filter / write steps each hold a slot beside the
        # extractor actors (with slots == cores == actors + 1 the pipeline deadlocks)
        local = {} if address else {
            "object_store_memory": int(os.environ.get("GHARA_RAY_OBJECT_STORE_BYTES", 1 << 30)),
            "num_cpus": int(os.environ.get("GHARA_RAY_NUM_CPUS", (os.cpu_count() or 1) + 2))}
        # our own cluster: its workers inherit the actors' niceness (see map_batches below)
        niceness = {} if address else {"RAY_worker_niceness": _actor_niceness()}
        with _environment(niceness):
            ray.init(address=address, include_dashboard=False, log_to_driver=False, **local)
        own_cluster = not address
    gpus = int(ray.cluster_resources().get("GPU", 0))
    device = device or ("cuda" if gpus else "cpu")
    actors = actors or max(gpus, 1)
    checkpoint = checkpoint or checkpoint_path(output)
    done = committed(checkpoint)
    ctx = ray.data.DataContext.get_current()
    ctx.checkpoint_config = CheckpointConfig(
        id_column="id", checkpoint_path=checkpoint,
        delete_checkpoint_on_success=False)  # kept: a rerun after success must skip all
    ctx.enable_progress_bars = False
    ds = read_input(input_path, max_chars_per_batch, separate_tasks=actors > 1)
    ds = ds.map_batches(
        ExtractBatch,
        fn_constructor_kwargs=dict(model=model, device=device, batch_size=batch_size,
                                   output_format=record_format, model_version=model_version,
                                   threads=threads, with_records=records is not None),
        batch_size=None, batch_format="pyarrow",
        # one block in flight per actor: blocks are seconds of work each, and a queue of
        # several on the first actor ready left the others idle (2 actors ran as 1)
        compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
        num_gpus=1 if device.startswith("cuda") else 0,
        # Ray starts its workers at niceness 15; the extractor actors are the job's work, not
        # background chores: at 15 they yield to every other process on a shared machine.
        # A cluster this job started has it in its environment; elsewhere a runtime_env
        # sets it (which costs a fresh worker process: about 1 s more to start the actor)
        **({} if own_cluster else
           {"runtime_env": {"env_vars": {"RAY_worker_niceness": _actor_niceness()}}}),
    )
    sink = LinesSink(output, output_format, records)
    ds.write_datasink(sink)
    totals = getattr(sink, "totals", {})
    summary = Summary(records=totals.get("records", 0), errors=totals.get("errors", 0),
                      events=totals.get("events", 0), skipped_done=done,
                      bad_dates=totals.get("bad_dates", 0),
                      incidents=totals.get("incidents", 0) if records is not None else None)
    summary.seconds = time.perf_counter() - start
    return summary


def main_ray(args: argparse.Namespace, model_version: str) -> int:
    """``--engine ray`` from ``model.batch``'s command line; exit codes as there. Local
    paths are checked (and a local output folder locked) before Ray starts."""
    output = args.output
    if args.actors < 0:
        raise UsageError(f"--actors must be 0 (one per GPU, else 1) or more, got {args.actors}")
    records = _records_folder(output, args.records) if args.records else None
    inputs: str | list[str] = args.input
    skipped: list[str] = []
    src = None
    if _is_local(args.input):  # read as the local engine reads it
        src = Path(args.input.removeprefix("file://"))
        if not src.exists():
            raise UsageError(f"input not found: {args.input}")
        src = src.resolve()
        inputs, skipped = local_inputs(src)
    elif _is_parquet(args.input):  # an object store's Parquet: null ids, before Ray starts
        _check_parquet_ids([args.input])
    with contextlib.ExitStack() as stack:
        if _is_local(output):
            # one folder, one checkpoint, however it is named (relative, through a symlink)
            out = Path(output.removeprefix("file://")).resolve()
            output = str(out)
            if out.exists() and not out.is_dir():
                raise UsageError(f"--output {args.output} is a file; with --engine ray it is "
                                 "a folder")
            if src is not None and (src == out or src in out.parents or out in src.parents):
                raise UsageError(f"--output {args.output} and the input {args.input} "
                                 "overlap (one inside the other); choose another --output")
            try:
                out.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=out):
                    pass
            except OSError as err:
                raise UsageError(f"cannot write into --output {args.output}: "
                                 f"{err.strerror}") from None
            stack.enter_context(contextlib.closing(_lock(out)))  # one job per output folder
            if records is not None:
                rec = out / records
                if rec.exists() and not rec.is_dir():
                    raise UsageError(f"--records {args.records} is a file; it is a folder")
                done = committed(checkpoint_path(output))
                if not rec.exists() and done:
                    raise UsageError(
                        f"--records {args.records} does not exist but the job in --output "
                        f"{args.output} already did {done} articles, whose records would be "
                        "missing; use a new --output (or rerun without --records)")
        if _is_local(args.model):  # a missing local model is reported before Ray starts
            try:
                model_source(args.model)
            except ModelSourceError as err:
                raise UsageError(str(err)) from None
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError('--engine ray needs Ray: pip install -e ".[ray]"') from None
        summary = run_ray(args.model, inputs, output, actors=args.actors,
                          device=args.device, batch_size=args.batch_size,
                          max_chars_per_batch=args.max_chars_per_batch,
                          output_format=args.output_format, record_format=args.format,
                          model_version=model_version, threads=args.threads, records=records)
    summary.skipped_files = skipped
    repeated = repeated_ids(checkpoint_path(output)) if _is_local(output) else []
    if repeated:
        summary.input_problems.append(
            f"{len(repeated)} ids written more than once, from different input files (Ray "
            f"catches a repeat within one file only): {', '.join(repeated[:EXAMPLES])}")
    for line in summary.report():
        print(line, flush=True)
    return summary.exit_code


def _is_parquet(inputs: str | list[str]) -> bool:
    """Parquet input: a ``.parquet`` path, or the files :func:`local_inputs` listed."""
    items = [inputs] if isinstance(inputs, str) else inputs
    return all(str(i).lower().endswith(".parquet") for i in items)


def _check_parquet_ids(files: list[str]) -> None:
    """Refuse Parquet files with rows that have no id: Ray's checkpoint cannot compare a null
    id, so such a job could never be resumed (and its id would be 'None'). Local paths or
    any URI pyarrow opens (``s3://``, ``gs://``, ``file://``...; a folder: its ``.parquet``
    files). The footer's null counts are read; a column chunk without statistics is read."""
    import pyarrow.parquet as pq
    from pyarrow import fs as pafs

    for file in files:
        try:
            filesystem, path = pafs.FileSystem.from_uri(file) if "://" in file else (
                pafs.LocalFileSystem(), file)
            info = filesystem.get_file_info(path)
            paths = [path] if info.type != pafs.FileType.Directory else sorted(
                f.path for f in filesystem.get_file_info(pafs.FileSelector(path, recursive=True))
                if f.type == pafs.FileType.File and f.path.lower().endswith(".parquet"))
            nulls = sum(_null_ids(pq.ParquetFile(filesystem.open_input_file(p))) for p in paths)
        except Exception as err:  # noqa: BLE001 - any unreadable footer is one line
            raise UsageError(f"{file}: not a readable Parquet file ({err})") from None
        if nulls:
            raise UsageError(f"{file}: {nulls} rows have no id; with --engine ray every row "
                             "needs one (a resumed job skips rows by id)")


def _null_ids(parquet: Any) -> int:
    """Rows of one ``pyarrow.parquet.ParquetFile`` whose ``id`` is null (0 without an id
    column: the job says which columns it needs)."""
    meta = parquet.metadata
    if "id" not in meta.schema.names:
        return 0
    column = meta.schema.names.index("id")
    nulls = 0
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(column).statistics
        if stats is not None and stats.has_null_count:
            nulls += stats.null_count
        else:  # no statistics written: read this row group's ids
            nulls += parquet.read_row_group(g, columns=["id"]).column("id").null_count
    return nulls


def local_inputs(path: Path) -> tuple[str | list[str], list[str]]:
    """What Ray reads of a local input, and the folder entries skipped: a file as given; of a
    folder, its Parquet files, or else exactly the files the local engine reads
    (``annotation.articles.article_files``: not Ray's own listing, which recurses into
    subfolders, reads ``.json`` files and skips names starting with ``_`` or ``.``). A folder
    with both Parquet and JSON-lines files is refused: one reader reads the whole job."""
    if not path.is_dir():
        if path.name.lower().endswith(".parquet"):
            _check_parquet_ids([str(path)])
        return str(path), []
    parquet = sorted(str(p) for p in path.iterdir()
                     if p.is_file() and p.name.lower().endswith(".parquet"))
    try:
        files, skipped = article_files(path)
    except InputError as err:
        if parquet:
            _check_parquet_ids(parquet)
            return parquet, []
        raise UsageError(str(err)) from None
    if parquet:
        raise UsageError(f"{path} holds both .parquet and .jsonl/.txt files; give them as two "
                         "inputs (two jobs)")
    return [str(f) for f in files], skipped


def _records_folder(output: str, records: str) -> str:
    """``--records`` as a path relative to ``--output`` (it must lie inside it: see the
    module docstring), or a one-line UsageError."""
    if _is_local(output) and _is_local(records):
        out = Path(output.removeprefix("file://")).resolve()
        rec = Path(records.removeprefix("file://")).resolve()
        if out in rec.parents:
            return rec.relative_to(out).as_posix()
    elif records.startswith(output.rstrip("/") + "/"):
        return records[len(output.rstrip("/")) + 1:].strip("/")
    raise UsageError(f"--records {records}: with --engine ray it must be a folder inside "
                     f"--output {output} (e.g. {output.rstrip('/')}/records), so that Ray's "
                     "checkpoint recovery removes uncommitted records with their events")


def read_output_ids(folder: str | Path) -> list[str]:
    """Every id in a local ``--engine ray`` JSON-lines output folder (for checks and tests)."""
    ids = []
    for file in sorted(Path(folder).glob("*.jsonl")):
        with open(file, encoding="utf-8") as handle:
            ids += [json.loads(line)["id"] for line in handle if line.strip()]
    return ids
