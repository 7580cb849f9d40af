"""The one article reader (annotation/articles.py): its rules, line by line."""

from __future__ import annotations

import gzip
import json
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation import articles
from annotation.articles import ArticleReader, InputError, iter_lines, read_lines, read_objects

TEXT = "شنت طائرات حربية غارة على قرية في ريف المدينة."
OTHER = "قصفت المدفعية مواقع قرب النهر فجر اليوم."


def _line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) if not isinstance(obj, str) else obj).encode() + b"\n"


def _write(path, *lines: bytes) -> str:
    path.write_bytes(b"".join(lines))
    return str(path)


def test_every_rule_on_one_file(tmp_path):
    path = _write(
        tmp_path / "a.jsonl",
        b"\xef\xbb\xbf" + _line({"id": "a", "text": TEXT, "source": "s"}),  # 1 BOM dropped
        _line("{not json"),                                    # 2
        _line({"article_id": "b", "text": OTHER}),             # 3 the alias
        b"   \n",                                              # 4 blank: counted, not yielded
        _line({"id": 5, "article_id": "5", "text": TEXT}),     # 5 both agree: int kept as "5"
        _line({"id": "c", "article_id": "x", "text": TEXT}),   # 6 disagree
        _line({"id": "a", "text": OTHER}),                     # 7 repeat
        _line({"id": "e", "text": "  "}),                      # 8 empty: usable, flagged
        b'{"id": "u", "text": "\xd8\xba\xff"}\n',              # 9 invalid UTF-8: replaced, noted
        _line('{"id": "s", "text": "x\\ud83d"}'),              # 10 lone surrogate
        _line({"id": True, "text": TEXT}),                     # 11 bool is no id
        _line({"text": TEXT}),                                 # 12 no id
        _line({"id": "t"}),                                    # 13 no text
        _line({"id": "n", "text": 3}),                         # 14 text not a string
        _line([1, 2]),                                         # 15 not an object
        b'{"id": "last", "text": "\xd8\xba"}',                 # 16 no final newline
    )
    reader = ArticleReader()
    items = {i.number: i for i in reader.read(path)}
    assert sorted(items) == [n for n in range(1, 17) if n != 4]
    good = {n: (i.id, i.text) for n, i in items.items() if i.ok}
    assert good == {1: ("a", TEXT), 3: ("b", OTHER), 5: ("5", TEXT), 8: ("e", "  "),
                    9: ("u", "غ\ufffd"), 16: ("last", "غ")}
    assert items[1].fields == {"source": "s"} and items[3].fields == {}
    assert items[8].empty and not items[1].empty
    assert items[9].replaced and items[9].note == "invalid UTF-8 replaced by U+FFFD (first at byte 23)"
    problem = {n: i.problem for n, i in items.items() if not i.ok}
    assert problem[2].startswith("bad JSON: ")
    assert problem[6] == "'id' 'c' and 'article_id' 'x' disagree"
    assert problem[7] == "duplicate id 'a' (first at line 1)" and items[7].duplicate_of == "line 1"
    assert items[7].text is None and items[7].id == "a"
    assert problem[10] == "'text' holds a lone surrogate '\\ud83d' at character 1"
    assert problem[11].startswith("'id' is empty or not a string/integer: True")
    assert problem[12] == "missing 'id'" and items[12].id is None
    assert problem[13] == "missing 'text'" and items[13].id == "t"
    assert problem[14] == "'text' is not a string but int"
    assert problem[15] == "not a JSON object but list"
    assert (reader.counts.blank_lines, reader.counts.invalid_utf8, reader.counts.duplicate_ids) == (1, 1, 1)


def test_a_bom_only_counts_on_the_first_line_and_text_is_not_normalised(tmp_path):
    nfd = "\u0627\u0653"  # alef + madda above: NFC would make it one character
    path = _write(tmp_path / "a.jsonl", _line({"id": "1", "text": nfd}),
                  b"\xef\xbb\xbf" + _line({"id": "2", "text": TEXT}))
    first, second = read_lines(path)
    assert first.text == nfd  # offsets index the file's text: NFC is the caller's step
    assert second.problem.startswith("bad JSON")  # a BOM inside a file is not dropped


def test_gzip_and_a_truncated_tail(tmp_path):
    data = b"".join(_line({"id": f"g{i}", "text": TEXT}) for i in range(200))
    good = tmp_path / "c.jsonl.gz"
    good.write_bytes(gzip.compress(data))
    assert [i.id for i in read_lines(good)] == [f"g{i}" for i in range(200)]
    cut = tmp_path / "cut.jsonl.GZ"
    cut.write_bytes(gzip.compress(data)[:-40])
    items = list(read_lines(cut))
    assert items[-1].tail and items[-1].problem.startswith(f"unreadable after line {len(items) - 1}")
    assert all(i.ok for i in items[:-1]) and len(items) > 100


def test_a_folder_shares_ids_names_files_and_counts_skips(tmp_path):
    (tmp_path / "b.jsonl").write_bytes(_line({"id": "x", "text": TEXT}) + _line({"id": "x.txt"}))
    (tmp_path / "x.txt").write_bytes("\ufeff".encode() + TEXT.encode())
    (tmp_path / "A.JSONL").write_bytes(_line({"id": "x", "text": OTHER}))
    (tmp_path / "notes.md").write_text("no", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    reader = ArticleReader()
    items = list(reader.read(tmp_path))
    assert [(i.name, i.number, i.id, i.ok) for i in items] == [
        ("A.JSONL", 1, "x", True), ("b.jsonl", 1, "x", False), ("b.jsonl", 2, "x.txt", False),
        ("x.txt", None, "x", False)]
    assert items[1].problem == "duplicate id 'x' (first at A.JSONL line 1)"
    assert items[3].problem == "duplicate id 'x' (first at A.JSONL line 1)"
    assert reader.counts.skipped_entries == ["notes.md", "sub/"]
    alone = list(read_lines(tmp_path / "x.txt"))
    assert alone[0].text == TEXT and alone[0].where == "x.txt"  # BOM of a .txt dropped


def test_unusable_inputs_are_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        list(read_lines(tmp_path / "missing.jsonl"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .jsonl, .jsonl.gz or .txt files in"):
        list(read_lines(tmp_path / "empty"))


def test_a_long_line_is_a_problem_and_never_held_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(articles, "MAX_LINE_BYTES", 1000)
    path = _write(tmp_path / "a.jsonl", _line({"id": "big", "text": "غ" * 5000}),
                  _line({"id": "ok", "text": TEXT}))
    big, ok = read_lines(path)
    assert big.problem == "line longer than 1000 bytes" and big.id is None
    assert ok.ok and ok.number == 2
    # iter_lines keeps at most one block beyond the limit, however long the line
    huge = iter([b"x" * 4096] * 2000 + [b"\nend\n", b""])
    tracemalloc.start()
    lines = list(iter_lines(lambda n: next(huge), block=4096))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert lines == [(1, None), (2, b"end\n")] and peak < 200_000


def test_read_objects_keeps_the_decoding_rules_but_not_the_article_rules(tmp_path):
    path = _write(tmp_path / "p.jsonl", b"\xef\xbb\xbf" + _line({"id": "a", "result": []}),
                  _line({"id": "a", "result": []}), b"\n", _line("[1]"), b'{"id": "\xff"}\n')
    got = [(i.number, obj, i.problem, i.replaced) for i, obj in read_objects(path)]
    assert got == [(1, {"id": "a", "result": []}, None, False), (2, {"id": "a", "result": []}, None, False),
                   (4, None, "not a JSON object but list", False), (5, {"id": "\ufffd"}, None, True)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), st.binary(max_size=30)), max_size=12))
def test_every_non_blank_line_gives_exactly_one_item(tmp_path_factory, lines):
    """Whatever the bytes, the reader never raises and never loses or invents a line."""
    raw = [x.encode("utf-8", "surrogatepass") if isinstance(x, str) else x for x in lines]
    raw = [x.replace(b"\n", b" ") for x in raw]
    path = tmp_path_factory.mktemp("h") / "h.jsonl"
    path.write_bytes(b"".join(x + b"\n" for x in raw))
    reader = ArticleReader()
    items = list(reader.read(path))
    assert len(items) + reader.counts.blank_lines == len(raw)
    for item in items:
        assert item.ok == (item.text is not None)
        assert item.ok or item.problem
