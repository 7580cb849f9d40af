"""Active learning (model/active.py): uncertainty, diversity-aware selection and the CLI,
with the real tiny model of the test session."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fixtures_model import REPO, tiny_extractor, tiny_model_dir
from model.active import EMPTY_UNCERTAINTY, main, score_articles, select, task_uncertainty, text_vector

ARTICLES = REPO / "annotation" / "sample" / "articles.jsonl"


def _texts() -> list[str]:
    return [json.loads(x)["text"] for x in ARTICLES.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_task_uncertainty_is_mean_least_confidence():
    assert task_uncertainty([], []) == EMPTY_UNCERTAINTY
    assert task_uncertainty([1.0, 1.0], [1.0]) == 0.0
    assert task_uncertainty([0.5], [0.9]) == pytest.approx((0.5 + 0.1) / 2)
    assert task_uncertainty([0.9, 0.9]) < task_uncertainty([0.9, 0.6])


def test_select_penalises_near_duplicates():
    a = "شنت طائرات حربية غارات على مواقع في ريف المدينة الشرقي صباح اليوم"
    b = "أعلنت وزارة الصحة عن افتتاح مستشفى جديد في العاصمة بحضور الوزير"
    vectors = np.stack([text_vector(t) for t in (a, a + " أمس", b)])
    assert float(vectors[0] @ vectors[1]) > 0.9 > float(vectors[0] @ vectors[2])
    uncertainties = [0.9, 0.89, 0.5]
    assert select(uncertainties, vectors, 2, penalty=0.0) == [0, 1]  # pure uncertainty
    assert select(uncertainties, vectors, 2, penalty=0.5) == [0, 2]  # the duplicate loses
    assert select(uncertainties, vectors, 10) == [0, 2, 1]  # k larger than the pool


def test_fitted_articles_are_less_uncertain_than_unseen_ones():
    """The tiny model was trained on the first two sample articles: it must be surer there."""
    texts = _texts()
    scores = score_articles(tiny_extractor(), texts[:2] + texts[10:20])
    seen = [u for u, _, _ in scores[:2]]
    unseen = [u for u, _, _ in scores[2:]]
    assert max(seen) < float(np.mean(unseen)), (seen, unseen)
    assert all(0.0 <= u <= 1.0 for u, _, _ in scores)


def test_cli_lists_k_articles_and_reports_bad_lines(tmp_path, capsys):
    texts = _texts()[:8]
    lines = [json.dumps({"id": f"a{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(texts)]
    lines[3:3] = ["{not json", json.dumps({"id": "empty", "text": " "}), json.dumps({"text": "بلا رقم"})]
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "next.jsonl"
    assert main(["--model", str(tiny_model_dir()), "--input", str(source), "-k", "3", "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "8 articles scored, 3 lines skipped, 3 picked" in err
    assert "line 4: bad JSON" in err and "(id empty): empty text" in err and "missing 'id'" in err
    picks = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [p["rank"] for p in picks] == [1, 2, 3] and len({p["id"] for p in picks}) == 3
    with pytest.raises(SystemExit) as exit_info:  # never overwrites
        main(["--model", str(tiny_model_dir()), "--input", str(source), "-k", "3", "--output", str(out)])
    assert exit_info.value.code == 2
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
