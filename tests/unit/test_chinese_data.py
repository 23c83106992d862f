"""Couplet and Tang-poem preparation: the upstream selection rules, local copies, joined text."""

import gzip
import json
from pathlib import Path

import pytest

from seq2seq.data.chinese import (
    couplet_pairs,
    normal_line,
    parallel,
    poem_pairs,
    prepare_chinese,
    regulated_lines,
    tang_splits,
)
from seq2seq.errors import UserError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_normal_line_marks_punctuation_and_the_end():
    assert normal_line("春风 掩映千门柳") == "春 风 掩 映 千 门 柳 。"
    assert normal_line("一上高楼,缅当年!") == "一 上 高 楼 ， 缅 当 年 。"


def test_parallel_needs_the_same_shape_and_repetitions():
    assert parallel("天 天 向 上 。", "日 日 高 升 。")
    assert not parallel("天 天 向 上 。", "日 月 高 升 。")  # repetition pattern differs
    assert not parallel("天 ， 向 上 。", "日 日 ， 升 。")  # punctuation moved
    assert not parallel("天 向 上 。", "日 日 高 升 。")


def test_couplet_pairs_filter_dedupe_and_hold_out():
    text = "\n".join(
        [
            "春风掩映千门柳\t=>\t暖雨晴开一径花",
            "春风掩映千门柳\t=>\t暖雨晴开一径花",  # a duplicate: kept once
            "天天向上\t=>\t日月高升",  # repetitions differ: dropped
            "彼此亡家国\t=>\t东西役梦魂",  # a dev first line: dropped
            "一" * 31 + "\t=>\t" + "二" * 31,  # too long
            "no separator here",
        ]
    )
    pairs = couplet_pairs([text], held_out={"彼 此 亡 家 国 。"})
    assert pairs == [("春 风 掩 映 千 门 柳", "暖 雨 晴 开 一 径 花")]


def test_regulated_lines_keep_only_4_or_8_equal_lines_of_5_or_7():
    assert regulated_lines(["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]) == [
        "床前明月光",
        "疑是地上霜",
        "舉頭望明月",
        "低頭思故鄉",
    ]
    assert regulated_lines(["床前明月光，疑是地上霜。"]) is None  # two lines
    assert regulated_lines(["床前明月光，疑是地上霜，舉頭望明月，低頭思故鄉"]) is None  # no end
    assert regulated_lines(["床前明月，疑是地上霜。舉頭望明月，低頭思故鄉。"]) is None
    assert regulated_lines(["床前□月光，疑是地上霜。舉頭望明月，低頭思故鄉。"]) is None


def test_tang_splits_are_by_whole_poem_and_deduplicated(monkeypatch):
    import seq2seq.data.chinese as chinese

    monkeypatch.setattr(chinese, "TANG_PAIRS", {"test": 6, "dev": 3, "train": 9})
    poem = ["一二三四五", "六七八九十", "甲乙丙丁戊", "己庚辛壬癸"]
    files = [[{"paragraphs": [f"{a}，{b}。{c}，{d}。"]} for a, b, c, d in [poem] * 2]]
    files.append(
        [
            {"paragraphs": [f"{k}二三四五，六七八九十。甲乙丙丁戊，己庚辛壬癸。"]}
            for k in "天地人山水日月"
        ]
    )
    splits = tang_splits(files)
    assert [len(poem_pairs(p)) for p in splits.values()] == [6, 3, 9]
    lines = [tuple(p) for s in splits.values() for p in s]
    assert len(lines) == len(set(lines)) == 6  # the duplicate poem once; 2 poems unused


def test_prepare_from_a_shared_style_copy_joins_characters(tmp_path):
    src = tmp_path / "copy"
    src.mkdir()
    with gzip.open(src / "train.src.gz", "wt", encoding="utf-8") as f:
        f.write("春 风 掩 映\n天 ， 地\n")
    with gzip.open(src / "train.tgt.gz", "wt", encoding="utf-8") as f:
        f.write("暖 雨 晴 开\n山 ， 水\n")
    (src / "dev.src").write_text("彼 此\n", encoding="utf-8")
    (src / "dev.tgt").write_text("东 西\n", encoding="utf-8")
    out = prepare_chinese("couplet-zh", tmp_path / "out", src)
    assert set(out) == {"train", "dev"}
    assert out["train"][0].read_text(encoding="utf-8") == "春风掩映\n天，地\n"
    assert out["dev"][1].read_text(encoding="utf-8") == "东西\n"


def test_prepare_refuses_a_foreign_folder_and_leaves_nothing(tmp_path):
    with pytest.raises(UserError, match="is this a copy of tang-poems"):
        prepare_chinese("tang-poems", tmp_path / "new" / "out", tmp_path)
    assert not (tmp_path / "new").exists()
    with pytest.raises(UserError, match="not a folder"):
        prepare_chinese("couplet-zh", tmp_path / "o", tmp_path / "missing")


def test_poems_from_upstream_json_traditional(tmp_path, monkeypatch):
    import seq2seq.data.chinese as chinese

    monkeypatch.setattr(chinese, "TANG_PAIRS", {"test": 3, "dev": 3, "train": 3})
    monkeypatch.setattr(chinese, "TANG_FILES", ("poet.tang.0.json",))
    poems = [
        {"paragraphs": [f"{k}前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。"]} for k in "床窗門"
    ]
    (tmp_path / "poet.tang.0.json").write_text(json.dumps(poems, ensure_ascii=False), "utf-8")
    out = prepare_chinese("tang-poems", tmp_path / "out", tmp_path, script="traditional")
    assert sorted(out) == ["dev", "test", "train"]
    assert out["train"][1].read_text(encoding="utf-8").splitlines()[-1] == "低頭思故鄉"


@pytest.mark.skipif(not (SHARED / "couplet_zh").is_dir(), reason="../shared/data not here")
def test_the_shared_couplets_keep_length_and_punctuation(tmp_path):
    out = prepare_chinese("couplet-zh", tmp_path / "c", SHARED / "couplet_zh")
    src, tgt = (p.read_text(encoding="utf-8").splitlines() for p in out["train"])
    assert len(src) == len(tgt) == 74540
    assert all(len(a) == len(b) and " " not in a for a, b in zip(src, tgt))
    assert all((x == "，") == (y == "，") for a, b in zip(src, tgt) for x, y in zip(a, b))
