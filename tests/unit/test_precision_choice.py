"""Precision `auto`: bf16 only where the hardware has it natively, decided from faked CPU flags."""

import pytest
import torch

from seq2seq.errors import UserError
from seq2seq.precision import cpu_flags, decoding_precision, training_precision

CPU = torch.device("cpu")
# flags as /proc/cpuinfo lists them on machines the project has met
ZEN3 = frozenset("fma avx avx2 f16c bmi2 vaes vpclmulqdq".split())  # AVX2 only
XEON_VNNI = ZEN3 | {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"}  # no bf16 (Cascade Lake)
ZEN5 = XEON_VNNI | {"avx512_bf16"}
SAPPHIRE = XEON_VNNI | {"avx512_bf16", "amx_bf16", "amx_int8", "amx_tile"}
ALDER = ZEN3 | {"avx_vnni"}
GRAVITON3 = frozenset("fp asimd sve bf16 i8mm".split())
GRAVITON2 = frozenset("fp asimd asimddp".split())


@pytest.mark.parametrize(
    ("flags", "arch", "expected"),
    [
        (ZEN3, "x86", "fp32"),
        (XEON_VNNI, "x86", "fp32"),  # AVX-512 alone: bf16 emulated, 4x slower than fp32
        (ALDER, "x86", "fp32"),
        (ZEN5, "x86", "bf16"),
        (SAPPHIRE, "x86", "bf16"),
        (GRAVITON3, "arm", "bf16"),
        (GRAVITON2, "arm", "fp32"),
        (frozenset(), "x86", "fp32"),  # flags unknown: the safe choice
    ],
)
def test_auto_training_precision_follows_native_bf16(flags, arch, expected):
    choice = training_precision("auto", CPU, flags=flags, arch=arch)
    assert choice.name == expected
    assert not choice.warning
    assert choice.autocast_dtype == (torch.bfloat16 if expected == "bf16" else None)
    assert choice.reason.startswith(expected)  # the banner says what and why


def test_bf16_flag_of_the_other_architecture_does_not_count():
    assert training_precision("auto", CPU, flags=frozenset({"bf16"}), arch="x86").name == "fp32"
    arm_with_x86_name = frozenset({"avx512_bf16"})
    assert training_precision("auto", CPU, flags=arm_with_x86_name, arch="arm").name == "fp32"


def test_explicit_bf16_on_emulating_hardware_runs_with_one_warning_line():
    choice = training_precision("bf16", CPU, flags=XEON_VNNI, arch="x86", runs=True)
    assert choice.name == "bf16"
    assert "emulated" in choice.warning and "slower than fp32" in choice.warning
    assert "\n" not in choice.warning
    assert not training_precision("bf16", CPU, flags=ZEN5, arch="x86").warning


def test_explicit_bf16_where_nothing_can_run_it_is_a_one_line_error():
    for choose in (training_precision, decoding_precision):
        with pytest.raises(UserError, match="cannot run it.*use precision auto or fp32"):
            choose("bf16", CPU, flags=ZEN3, arch="x86", runs=False)


def test_explicit_fp32_is_kept_everywhere():
    assert training_precision("fp32", CPU, flags=SAPPHIRE, arch="x86").name == "fp32"
    assert decoding_precision("fp32", CPU, flags=SAPPHIRE, arch="x86").name == "fp32"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (ZEN3, "fp32"),
        (XEON_VNNI, "int8"),
        (ALDER, "int8"),
        (ZEN5, "bf16"),  # native bf16 first: 2.3x fp32 there, int8 1.9x
        (SAPPHIRE, "bf16"),
    ],
)
def test_auto_decoding_precision(flags, expected):
    choice = decoding_precision("auto", CPU, flags=flags, arch="x86")
    assert choice.name == expected
    assert choice.reason.startswith(expected)


def test_int8_decoding_is_cpu_only():
    with pytest.raises(UserError, match="CPU"):
        decoding_precision("int8", torch.device("meta"))
    assert decoding_precision("int8", CPU, flags=ZEN3, arch="x86").name == "int8"


@pytest.mark.cpu_only
def test_this_machine_flags_are_read():
    flags = cpu_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo flags on this platform")
    assert training_precision("auto", CPU).name in ("fp32", "bf16")
    assert ("avx512_bf16" in flags or "amx_bf16" in flags or "bf16" in flags) == (
        training_precision("auto", CPU).name == "bf16"
    )
