"""Model output -> Label Studio pre-annotations: the file `annotation import` reads back."""

from __future__ import annotations

import json

from annotation import read_export
from annotation.labelstudio import check_result, read_predictions
from fixtures_model import small_documents, tiny_extractor, tiny_model_dir
from model.batch import main as batch_main


def test_annotate_batch_keeps_every_span_with_article_offsets():
    docs = small_documents()
    annotated = tiny_extractor().annotate_batch([d.text for d in docs])
    for gold, (predicted, scores) in zip(docs, annotated):
        assert predicted.text == gold.text
        assert len(scores) == len(predicted.spans)
        # the tiny model was fitted on these articles: its spans are the gold spans,
        # including ones no strike links (which extract() leaves out)
        assert sorted(predicted.spans) == sorted(gold.spans)
        assert set(predicted.relations) == set(gold.relations)


def test_batch_labelstudio_format_is_importable(tmp_path):
    docs = small_documents()
    articles = tmp_path / "articles.jsonl"
    articles.write_text(
        "".join(json.dumps({"id": f"art-{i}", "text": d.text}, ensure_ascii=False) + "\n"
                for i, d in enumerate(docs)) + "{broken\n",
        encoding="utf-8",
    )
    out = tmp_path / "preannotations.jsonl"
    code = batch_main(["--model", str(tiny_model_dir()), "--input", str(articles),
                       "--output", str(out), "--format", "labelstudio", "--no-progress"])
    assert code == 1  # the deliberately broken line is an error record: exit 1
    loaded = read_predictions(out)
    # the broken input line becomes an error record, which the importer reports, not drops
    assert [p.message for p in loaded.problems] == ["neither result nor spans"]
    assert [p.article_id for p in loaded.items] == ["art-0", "art-1"]
    for doc, prediction in zip(docs, loaded.items):
        assert check_result(doc.text, prediction.result) == []
        assert prediction.model_version.endswith("best")
        back = read_export([{"id": 1, "data": {"text": doc.text},
                             "annotations": [{"id": 1, "result": prediction.result}]}])
        assert sorted(back.documents[0].spans) == sorted(doc.spans)
