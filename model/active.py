"""Active learning: which articles should annotators label next?

Two ingredients, both computed from what inference already returns (no second model pass):

* **uncertainty** of one article (:func:`task_uncertainty`): the mean *least-confidence*
  ``1 - p`` over everything the model predicted in it -- each span's ``p`` is the mean
  probability of its decoded BIO tags (``ParagraphPrediction.span_scores``), each
  relation's ``p`` the relation head's probability of its role (``relation_scores``).
  An article where the model predicts nothing gets :data:`EMPTY_UNCERTAINTY` (0.5): it is
  either off-topic or a complete miss, and public outputs cannot tell which. (Token
  margins over the ``O`` words would tell; see docs/ACTIVE_LEARNING.md.)
* **diversity** (:func:`select`): greedy picking by ``uncertainty - penalty * max cosine
  similarity`` to the articles already picked, on hashed bag-of-words vectors of the text
  (``annotation.words.split_words`` words), so K near-duplicate wire reports of one strike
  do not fill the whole batch.

The same uncertainty is the task-level ``score`` the ML backend (:mod:`model.backend`)
sends with each prediction, so Label Studio Community users sort the Data Manager by
"Prediction score", highest first.

``python -m model.active --model DIR --input articles.jsonl -k K [--output next.jsonl]``
streams the input (memory bounded: only the ``--pool`` most uncertain articles are kept
for the diversity step), prints the K picks as JSON lines. Exit codes: 0 done (bad lines
are reported on stderr and counted), 1 no usable article, 2 usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotation.documents import nfc
from annotation.articles import read_lines
from annotation.words import split_words

__all__ = [
    "EMPTY_UNCERTAINTY",
    "task_uncertainty",
    "text_vector",
    "select",
    "score_articles",
    "main",
]

#: Uncertainty of an article with no predicted span or relation.
EMPTY_UNCERTAINTY = 0.5
#: Hashed bag-of-words dimensions (collisions only blur the similarity a little).
VECTOR_DIM = 4096


def task_uncertainty(span_scores: Sequence[float], relation_scores: Sequence[float] = ()) -> float:
    """Mean ``1 - p`` over the article's predicted spans and relations, in ``[0, 1]``."""
    scores = [float(p) for p in (*span_scores, *relation_scores)]
    if not scores:
        return EMPTY_UNCERTAINTY
    return float(min(1.0, max(0.0, sum(1.0 - p for p in scores) / len(scores))))


def text_vector(text: str, dim: int = VECTOR_DIM) -> np.ndarray:
    """L2-normalised hashed bag of words (log counts) of ``text``; stable across runs."""
    vec = np.zeros(dim, dtype=np.float32)
    for start, end in split_words(text):
        word = text[start:end]
        if len(word) < 2:  # punctuation and single letters say nothing about the topic
            continue
        bucket = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        vec[bucket % dim] += 1.0
    np.log1p(vec, out=vec)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


def select(
    uncertainties: Sequence[float], vectors: np.ndarray | None, k: int, penalty: float = 0.5
) -> list[int]:
    """Indices of ``k`` items, greedily: highest ``uncertainty - penalty * max_sim`` first.

    ``max_sim`` is the largest cosine similarity to an item already chosen; ``penalty=0``
    (or ``vectors=None``) is plain uncertainty sampling. Ties go to the lower index.
    """
    n = len(uncertainties)
    k = max(0, min(k, n))
    u = np.asarray(uncertainties, dtype=np.float64)
    if vectors is None or penalty == 0:
        return sorted(range(n), key=lambda i: (-u[i], i))[:k]
    if len(vectors) != n:
        raise ValueError(f"{n} uncertainties but {len(vectors)} vectors")
    max_sim = np.zeros(n, dtype=np.float64)
    chosen: list[int] = []
    free = np.ones(n, dtype=bool)
    for _ in range(k):
        gain = np.where(free, u - penalty * max_sim, -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        free[best] = False
        max_sim = np.maximum(max_sim, vectors @ vectors[best])
    return chosen


@dataclass
class Scored:
    """One candidate article with its uncertainty."""

    id: str
    text: str
    uncertainty: float
    n_spans: int
    n_relations: int


def score_articles(extractor: Any, texts: Sequence[str]) -> list[tuple[float, int, int]]:
    """``(uncertainty, n_spans, n_relations)`` per text, with one inference pass."""
    out = []
    for doc, span_scores, relation_scores in annotate_with_scores(extractor, texts):
        out.append((task_uncertainty(span_scores, relation_scores), len(doc.spans), len(doc.relations)))
    return out


def annotate_with_scores(extractor: Any, texts: Sequence[str]) -> list[tuple[Any, list[float], list[float]]]:
    """``(Document, span_scores, relation_scores)`` per text.

    ``StrikeExtractor.annotate_batch`` returns span scores only; the relation scores come
    from the same paragraph predictions (``_predict_articles``), so nothing runs twice.
    """
    maps, paragraphs = extractor._predict_articles(list(texts), None)
    from annotation.documents import Document

    docs = [Document(id=str(t), text=omap.text if omap else nfc(text)) for t, (omap, text) in enumerate(zip(maps, texts))]
    span_scores: list[list[float]] = [[] for _ in texts]
    rel_scores: list[list[float]] = [[] for _ in texts]
    for t, _, start, _, prediction in paragraphs:
        docs[t].spans.extend(s.shifted(start) for s in prediction.spans)
        docs[t].relations.extend(r.shifted(start) for r in prediction.relations)
        span_scores[t].extend(prediction.span_scores)
        rel_scores[t].extend(prediction.relation_scores)
    return list(zip(docs, span_scores, rel_scores))


# -- command line ---------------------------------------------------------------------------


def _read_jsonl(path: Path, errors: list[str]) -> Iterator[tuple[str, str]]:
    """``(id, NFC text)`` per usable article (annotation.articles' rules); each unusable line
    (a problem, replaced invalid UTF-8, an empty text) adds one message to ``errors``."""
    for line in read_lines(path):
        where = f"{line.file} {line.where}" + (f" (id {line.id})" if line.id else "")
        if line.problem:
            errors.append(f"{where}: {line.problem}")
        elif line.replaced:
            errors.append(f"{where}: invalid UTF-8")
        elif line.empty:
            errors.append(f"{where}: empty text")
        else:
            yield line.id, nfc(line.text)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def rank_file(
    extractor: Any, path: Path, k: int, penalty: float, pool: int, chunk: int = 64
) -> tuple[list[Scored], int, list[str]]:
    """The ``k`` picks of a JSONL file, the number of usable articles, and the bad lines."""
    errors: list[str] = []
    heap: list[tuple[float, int, Scored]] = []  # min-heap of the `pool` most uncertain
    seen = 0
    for batch in _chunks(_read_jsonl(path, errors), chunk):
        for (article_id, text), (u, ns, nr) in zip(batch, score_articles(extractor, [t for _, t in batch])):
            item = (u, -seen, Scored(article_id, text, u, ns, nr))
            seen += 1
            if len(heap) < pool:
                heapq.heappush(heap, item)
            elif item[:2] > heap[0][:2]:
                heapq.heapreplace(heap, item)
    candidates = [s for _, _, s in sorted(heap, key=lambda x: (-x[0], -x[1]))]
    vectors = np.stack([text_vector(s.text) for s in candidates]) if candidates else None
    picks = select([s.uncertainty for s in candidates], vectors, k, penalty)
    return [candidates[i] for i in picks], seen, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model.active",
        description="List the next K articles to annotate (uncertainty + diversity).",
    )
    parser.add_argument("--model", required=True, help="trained model directory (save_pretrained)")
    parser.add_argument("--input", required=True, type=Path, help="articles.jsonl (id, text)")
    parser.add_argument("-k", type=int, default=20, help="how many to pick (default 20)")
    parser.add_argument("--penalty", type=float, default=0.5,
                        help="weight of the similarity penalty; 0 = pure uncertainty (default 0.5)")
    parser.add_argument("--pool", type=int, default=0,
                        help="most uncertain articles kept for the diversity step (default max(50k, 1000))")
    parser.add_argument("--output", type=Path, help="write the picks here (JSONL; refuses to overwrite)")
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("-k must be at least 1")
    if not args.input.is_file():
        parser.error(f"--input: no such file: {args.input}")
    if args.output is not None and args.output.exists():
        parser.error(f"--output: {args.output} exists; not overwriting it")
    from .extractor import StrikeExtractor

    extractor = StrikeExtractor.from_pretrained(args.model)
    pool = args.pool or max(50 * args.k, 1000)
    picks, seen, errors = rank_file(extractor, args.input, args.k, args.penalty, pool)
    for message in errors:
        print(message, file=sys.stderr)
    print(f"{seen} articles scored, {len(errors)} lines skipped, {len(picks)} picked", file=sys.stderr)
    if not picks:
        return 1
    lines = [json.dumps({"rank": r + 1, "id": s.id, "uncertainty": round(s.uncertainty, 4),
                         "spans": s.n_spans, "relations": s.n_relations}, ensure_ascii=False)
             for r, s in enumerate(picks)]
    if args.output is not None:
        with args.output.open("x", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
