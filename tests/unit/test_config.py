"""Strict config loading: unknown keys with a suggestion, types, ranges, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import deep_update

from seq2seq.config import (
    Config,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
    save_config,
)
from seq2seq.errors import UserError


def _minimal(**extra):
    return {"data": {"train": {"tsv": "t.tsv"}, "dataset": "files"}, **extra}


def test_defaults_and_round_trip(tmp_path):
    cfg = config_from_dict(_minimal(train={"adam_betas": [0.8, 0.95], "lr": 1}))
    assert isinstance(cfg, Config)
    assert cfg.train.adam_betas == (0.8, 0.95)
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.model.layers == 4 and cfg.data.reverse_source is True
    assert config_from_dict(config_to_dict(cfg)) == cfg
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == cfg


def test_unknown_key_names_the_dotted_key_and_suggests(tmp_path):
    with pytest.raises(UserError) as e:
        config_from_dict(_minimal(train={"lrr": 0.5}), source="my.yaml")
    msg = str(e.value)
    assert msg.startswith("my.yaml: ")
    assert "`train.lrr`" in msg and "did you mean `train.lr`?" in msg


def test_unknown_nested_key_and_unknown_section(tmp_path):
    with pytest.raises(
        UserError, match=r"`data\.src_tokenizer\.kinds`.*did you mean `data\.src_tokenizer\.kind`"
    ):
        config_from_dict(_minimal(data={"train": {"tsv": "t"}, "src_tokenizer": {"kinds": "char"}}))
    with pytest.raises(UserError, match=r"unknown key `modle`; did you mean `model`"):
        config_from_dict(_minimal(modle={}))
    with pytest.raises(UserError, match="valid keys: "):
        config_from_dict(_minimal(decode={"zzzzzz": 1}))
    with pytest.raises(UserError, match="unknown key `model.nope`; valid keys: "):  # not `type`
        config_from_dict(_minimal(model={"nope": 1}))


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"train": {"lr": "fast"}}, "`train.lr` must be a number, got 'fast'"),
        ({"train": {"lr": True}}, "`train.lr` must be a number"),
        ({"model": {"layers": 2.5}}, "`model.layers` must be an integer"),
        ({"data": {"train": {"tsv": 3}}}, "`data.train.tsv` must be a string"),
        ({"data": {"reverse_source": "yes"}}, "`data.reverse_source` must be true or false"),
        ({"model": {"cell": "rnn"}}, "`model.cell` must be one of 'lstm', 'gru'"),
        ({"train": {"adam_betas": [0.9]}}, "`train.adam_betas` must be a list of 2 values"),
        ({"train": "fast"}, "`train` must be a mapping"),
        ({"model": {"dropout": 1.5}}, "`model.dropout` must be in [0, 1)"),
        ({"decode": {"beam": 2, "nbest": 3}}, "1 <= `decode.nbest` <= beam"),
        ({"decode": {"batch_size": 0}}, "`decode.batch_size` must be >= 1"),
    ],
)
def test_wrong_values_are_user_errors_naming_the_key(raw, fragment):
    with pytest.raises(UserError) as e:
        config_from_dict(deep_update(_minimal(), raw), source="cfg.yaml")
    assert fragment in str(e.value)
    assert str(e.value).startswith("cfg.yaml: ")


def test_files_dataset_needs_a_train_split():
    with pytest.raises(UserError, match="`data.train` is required"):
        config_from_dict({"data": {"dataset": "files"}})
    with pytest.raises(UserError, match="either `tsv: FILE` or both"):
        config_from_dict({"data": {"train": {"src": "a.de"}}})


def test_load_config_errors_name_the_file(tmp_path):
    with pytest.raises(UserError, match="missing.yaml: config file not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n", encoding="utf-8")
    with pytest.raises(UserError, match="bad.yaml: not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(UserError, match="list.yaml: the top level must be a mapping"):
        load_config(listy)
    typo = tmp_path / "typo.yaml"
    typo.write_text("data: {dataset: cmudict}\nmodel: {hiden_size: 8}\n", encoding="utf-8")
    with pytest.raises(
        UserError,
        match=r"typo.yaml: unknown key `model.hiden_size`; did you mean `model.hidden_size`",
    ):
        load_config(typo)


def test_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {dataset: cmudict}\ntrain: {lr: 0.7}\n", encoding="utf-8")
    cfg = load_config(path, ["train.lr=0.5", "model.layers=2", "data.cmudict.strip_stress=true"])
    assert (cfg.train.lr, cfg.model.layers, cfg.data.cmudict.strip_stress) == (0.5, 2, True)
    with pytest.raises(UserError, match="expected KEY=VALUE"):
        apply_overrides({}, ["train.lr"])
    with pytest.raises(UserError, match="`train.lr` must be a number"):
        load_config(path, ["train.lr=abc"])
    raw = {"train": {"lr": 1.0}}
    apply_overrides(raw, ["train.lr=2"])
    assert raw == {"train": {"lr": 1.0}}  # the input is not changed


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[2] / "configs").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_shipped_config_loads(path, tmp_path):
    """A config the docs point at is valid as shipped (unknown keys, types and ranges), and
    what a run saves of it reads back as the same config."""
    cfg = load_config(path)
    save_config(cfg, tmp_path / "saved.yaml")
    assert load_config(tmp_path / "saved.yaml") == cfg
