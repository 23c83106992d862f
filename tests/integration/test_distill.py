"""Token-level ensemble distillation: the cached teacher distributions are the ensemble's
step-by-step ones, and a student learns a memorised set from them alone."""

from __future__ import annotations

import pytest
import torch
from helpers import tiny_config, write_pairs

from seq2seq import Translator
from seq2seq.config import config_from_dict
from seq2seq.data import Processor, collate
from seq2seq.errors import UserError
from seq2seq.training import distill, train
from seq2seq.training.loop import Trainer
from seq2seq.vocab import PAD_ID


def quiet(msg):
    pass


@pytest.fixture(scope="module")
def second_teacher(memorised, tmp_path_factory):
    """A briefly trained model on the memorised run's data (same vocabulary, other weights)."""
    run_dir, pairs, _ = memorised
    root = tmp_path_factory.mktemp("teacher2")
    tsv = write_pairs(root / "train.tsv", pairs)
    train(
        tiny_config(tsv, train={"max_steps": 15, "seed": 7}),
        root / "run",
        progress=False,
        log=quiet,
    )
    return root / "run"


def test_cached_targets_are_the_ensembles_distribution(memorised, second_teacher):
    run_dir, pairs, _ = memorised
    ckpt = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    cfg = config_from_dict(ckpt["config"])
    processor = Processor.from_state(cfg.data, ckpt["processor"])
    examples = processor.examples(pairs)
    teachers = distill.load_teachers(
        [str(run_dir), str(second_teacher)], cfg, ckpt["processor"], "cpu"
    )
    cache = distill.teacher_targets(
        teachers, examples, k=3, device=torch.device("cpu"), batch_size=7, progress=False
    )
    for j in (0, 5, 19):  # one example at a time, no padding, no sorting
        batch = collate([examples[j]])
        keep = batch.tgt_out != PAD_ID
        logp = torch.stack(
            [
                torch.log_softmax(t(batch.src, batch.src_len, batch.tgt_in, keep), -1)
                for t in teachers
            ]
        ).mean(0)
        top_p, top_i = torch.softmax(logp, -1).topk(3, dim=-1)
        assert cache.ids[j].shape == (len(examples[j][1]) + 1, 3)
        assert torch.equal(cache.ids[j].long(), top_i)
        torch.testing.assert_close(
            cache.probs[j].float(), top_p / top_p.sum(-1, keepdim=True), atol=2e-3, rtol=0
        )


def test_student_memorises_from_the_teacher_alone(memorised, tmp_path):
    """distill_weight 1: the references only feed the decoder; every signal is the teacher's."""
    run_dir, pairs, _ = memorised
    tsv = write_pairs(tmp_path / "train.tsv", pairs)
    cfg = tiny_config(
        tsv,
        train={
            "max_steps": 150,
            "lr": 0.02,
            "distill_from": [str(run_dir)],
            "distill_weight": 1.0,
            "distill_topk": 4,
        },
    )
    train(cfg, tmp_path / "student", progress=False, log=quiet)
    student = Translator.load(tmp_path / "student", device="cpu")
    sources = [s for s, _ in pairs]
    assert student.translate(sources, greedy=True) == [t for _, t in pairs]


def test_a_teacher_with_another_vocabulary_is_refused(memorised, tmp_path):
    run_dir, _, _ = memorised
    other = write_pairs(tmp_path / "digits.tsv", [("123", "321"), ("45", "54")])
    cfg = tiny_config(other, train={"distill_from": str(run_dir)})
    with pytest.raises(UserError, match="vocabulary differs"):
        Trainer(cfg, tmp_path / "student", log=quiet)


@pytest.mark.parametrize(
    "option, message",
    [
        ("distill_from", r"data\.reverse_source differs"),
        ("vocab_from", r"`train\.vocab_from` .* `data\.reverse_source`"),
    ],
)
def test_a_model_that_reads_the_source_in_another_order_is_refused(
    memorised, tmp_path, option, message
):
    """As teacher or as the source of the vocabularies."""
    run_dir, pairs, _ = memorised  # trained with reverse_source: true
    tsv = write_pairs(tmp_path / "train.tsv", pairs)
    cfg = tiny_config(tsv, data={"reverse_source": False}, train={option: str(run_dir)})
    with pytest.raises(UserError, match=message):
        Trainer(cfg, tmp_path / "student", log=quiet)


def test_a_student_on_more_words_can_take_the_teachers_vocabulary(memorised, tmp_path):
    """Extra (e.g. teacher-labelled) words change the counts, so a fitted vocabulary would
    order its tokens differently; `train.vocab_from` keeps the teachers' token ids."""
    run_dir, pairs, _ = memorised
    teacher = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)["processor"]
    src_rare, tgt_rare = teacher["src_vocab"][-1], teacher["tgt_vocab"][-1]
    tsv = write_pairs(tmp_path / "train.tsv", pairs + [(src_rare * 9, tgt_rare * 9)] * 5)
    distilled = {"distill_from": str(run_dir)}
    with pytest.raises(UserError, match="vocabulary differs"):
        Trainer(tiny_config(tsv, train=distilled), tmp_path / "fitted", log=quiet)
    cfg = tiny_config(tsv, train={**distilled, "vocab_from": str(run_dir)})
    student = Trainer(cfg, tmp_path / "student", log=quiet)
    assert student.processor.state() == teacher
    assert len(student.train_examples) == len(pairs) + 5
