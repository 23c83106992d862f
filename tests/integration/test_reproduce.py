"""The whole sutskever2014 reproduction pipeline, at toy scale, on generated data."""

import gzip
import json
import os
import random
import signal

import pytest

from seq2seq import checkpoints
from seq2seq.experiments.sutskever2014 import Reproduction
from seq2seq.experiments.sutskever2014 import run as reproduce

DE = "ein eine mann frau hund katze sieht jagt wird von einem einer gesehen gejagt rot blau".split()
EN = "a man woman dog cat sees chases is by seen chased red blue the".split()


def fake_multi30k(folder, seed=0):
    rng = random.Random(seed)
    folder.mkdir()
    for split, n in (("train", 160), ("val", 30), ("test_2016_flickr", 30)):
        rows = []
        for _ in range(n):
            k = rng.randint(2, 6)
            idx = [rng.randrange(len(EN)) for _ in range(k)]
            rows.append((" ".join(DE[i % len(DE)] for i in idx), " ".join(EN[i] for i in idx)))
        for lang, col in (("de", 0), ("en", 1)):
            with gzip.open(folder / f"{split}.{lang}.gz", "wt", encoding="utf-8") as f:
                f.write("".join(r[col] + "\n" for r in rows))


def test_tiny_reproduction_writes_report_and_resumes(tmp_path, monkeypatch):
    fake_multi30k(tmp_path / "m30k")
    work, report = tmp_path / "work", tmp_path / "report"

    def stop(*_):  # a sitting that ends before the report: a SIGTERM, handled as Ctrl-C
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    with monkeypatch.context() as m:  # the first sitting trains the models 2 at a time
        m.setattr(Reproduction, "figure3", stop)
        with pytest.raises(KeyboardInterrupt):
            reproduce("tiny", tmp_path / "m30k", work, report, jobs=2)
    assert signal.getsignal(signal.SIGTERM) is before
    first_sitting = json.loads((work / "results.json").read_text())["grid_seconds"]
    threads = max(1, (os.cpu_count() or 1) // 2)
    runs = sorted(work.glob("*-*/"))
    assert len(runs) == 8
    for run in runs:  # trained by the worker processes, each with its share of the threads
        state = checkpoints.load(run / "checkpoints" / "best.pt")
        assert state["config"]["train"]["threads"] == threads, run
    summary = reproduce("tiny", tmp_path / "m30k", work, report)
    assert summary["grid_seconds"] >= first_sitting  # both sittings count
    assert set(summary["train_seconds"]) == {
        "rev-s1",
        "rev-s2",
        "rev-s3",
        "rev-s4",
        "rev-s5",
        "fwd-s1",
        "fwd-s2",
        "rev-L2",
    }
    for name in (
        "report.md",
        "results.json",
        "figure2_pca.png",
        "figure3_length.png",
        "figure3_rarity.png",
    ):
        assert (report / name).is_file(), name
    text = (report / "report.md").read_text(encoding="utf-8")
    assert "Table 1 analogue" in text and "Discussion" in text
    singles = [summary["singles"][f"rev-s{s}"] for s in range(1, 6)]  # all five seeds decoded
    assert summary["table1"]["best of 5 single reversed LSTMs, beam 12"] == max(singles)
    best = max(singles)  # the discussion's verdicts follow the numbers
    assert f"The best single reversed model reached {best:.2f} BLEU" in text
    gain = summary["table1"]["ensemble of 5 reversed LSTMs, beam 12"] - best
    assert f"Ensembles: {'reproduced' if gain >= 1 else '**not reproduced**'}" in text
    assert set(summary["table1"]) >= {"ensemble of 5 reversed LSTMs, beam 12"}
    assert (
        summary["rescoring"]["oracle of the 12-best lists"]
        >= summary["rescoring"]["other system 1-best"]
    )
    assert set(summary["depth"]) == {1, 2}
    # a second run continues from the cache and checkpoints: same numbers
    again = reproduce("tiny", tmp_path / "m30k", work, report)
    assert json.dumps(again["table1"]) == json.dumps(summary["table1"])


def test_a_failing_grid_worker_stops_the_grid_with_one_line(tmp_path, monkeypatch, capfd):
    from seq2seq.errors import UserError

    fake_multi30k(tmp_path / "m30k")
    r = Reproduction("tiny", tmp_path / "m30k", tmp_path / "work", tmp_path / "report")
    config = Reproduction.config  # the parent builds each worker's config: spoil it there
    monkeypatch.setattr(Reproduction, "config", lambda self, **kw: {**config(self, **kw), "x": 1})
    with pytest.raises(UserError, match=r"work/rev-(s1|L2): training stopped \(exit code 2"):
        r.train_parallel(2)
    err = capfd.readouterr().err
    assert "unknown key `x`" in err and "Traceback" not in err
    assert not (tmp_path / "work" / "rev-s3").exists()  # no model started after the failure
