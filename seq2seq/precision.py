"""Which number format to train and decode in, decided from what the hardware runs natively.

bf16 halves the memory traffic and, on hardware with bf16 matrix instructions, doubles to
quadruples the matrix products' speed. Without them it is emulated, and slower than fp32:
oneDNN converts to fp32 on AVX-512 CPUs, and on AVX2-only CPUs torch falls back to a
reference loop. So `auto` never trusts torch's "bf16 supported" (True wherever it can
emulate); it reads the CPU's flags:

- training: bf16 autocast where native (x86 `avx512_bf16` or `amx_bf16`, ARM `bf16`; CUDA
  compute capability >= 8.0), else fp32;
- decoding: the same bf16 rule first; else INT8 dynamic quantisation where the CPU has VNNI
  int8 dot products (`avx512_vnni`, `avx_vnni`), else fp32.

The measurements behind each rule, with their machines, are in bench/README.md
("Precision"). Every decision comes with its reason, for the run banner. An explicit
`bf16` on hardware that only emulates it still runs, with one warning line; where nothing
can run it (a CPU without AVX-512: oneDNN then has no bf16 LSTM at all) it is a one-line
error.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from .errors import UserError

X86_BF16 = ("avx512_bf16", "amx_bf16")
X86_VNNI = ("avx512_vnni", "avx_vnni", "amx_int8")
ARM_BF16 = ("bf16",)


@dataclass(frozen=True)
class Precision:
    """What to run in: `name` fp32 | bf16 | int8, and why (one clause for the banner)."""

    name: str
    reason: str
    warning: str = ""  # non-empty: print it once (an explicit choice the hardware emulates)

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return torch.bfloat16 if self.name == "bf16" else None


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (x86 `flags`, ARM `Features`); empty if unknown."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def cpu_arch() -> str:
    """'x86' or 'arm' (or the machine name as reported)."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64", "i686", "i386"):
        return "x86"
    if machine in ("aarch64", "arm64") or machine.startswith("arm"):
        return "arm"
    return machine


def native_bf16(
    device: torch.device, flags: frozenset[str] | None = None, arch: str | None = None
) -> tuple[bool, str]:
    """Whether `device` runs bf16 matrix products natively, and the evidence."""
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        ok = major >= 8
        return ok, f"CUDA compute capability {major}.{minor} ({'>=' if ok else '<'} 8.0)"
    if device.type != "cpu":
        return False, f"no bf16 rule for device type {device.type}"
    flags = cpu_flags() if flags is None else flags
    arch = cpu_arch() if arch is None else arch
    wanted = ARM_BF16 if arch == "arm" else X86_BF16
    have = [f for f in wanted if f in flags]
    if have:
        return True, f"the CPU has {'/'.join(have)}"
    return False, f"the CPU has no {'/'.join(wanted)}"


def bf16_runs(device: torch.device) -> bool:
    """Whether bf16 runs here at all, natively or emulated. On CPUs without AVX-512, oneDNN
    has no bf16 LSTM (the fused layer fails to build) and matrix products take a reference loop."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def has_vnni(flags: frozenset[str] | None = None) -> str:
    """The CPU's VNNI-class int8 dot-product flag, or ''."""
    flags = cpu_flags() if flags is None else flags
    return next((f for f in X86_VNNI if f in flags), "")


def training_precision(
    requested: str,
    device: torch.device,
    *,
    flags: frozenset[str] | None = None,
    arch: str | None = None,
    runs: bool | None = None,
) -> Precision:
    """`train.precision` (auto | fp32 | bf16) -> what training runs in, and why. `runs`:
    whether bf16 runs here at all (default: `bf16_runs`); an explicit bf16 where it does not
    is a one-line error."""
    if requested == "fp32":
        return Precision("fp32", "fp32 as configured")
    native, why = native_bf16(device, flags, arch)
    if requested == "auto":
        if native:
            return Precision("bf16", f"bf16 autocast: {why}")
        return Precision("fp32", f"fp32: {why}, so bf16 would be emulated")
    if requested != "bf16":
        raise UserError(f"precision {requested!r}: use auto, fp32 or bf16")
    if native:
        return Precision("bf16", f"bf16 autocast as configured ({why})")
    if not (bf16_runs(device) if runs is None else runs):
        raise UserError(
            f"precision bf16: this {device.type} cannot run it ({why}, and nothing to emulate it "
            "with); use precision auto or fp32"
        )
    return Precision(
        "bf16",
        "bf16 autocast as configured (emulated)",
        warning=f"warning: bf16 is emulated here ({why}) and runs slower than fp32; "
        "precision auto or fp32 is faster on this machine",
    )


def decoding_precision(
    requested: str,
    device: torch.device,
    *,
    flags: frozenset[str] | None = None,
    arch: str | None = None,
    runs: bool | None = None,
) -> Precision:
    """`--precision` (auto | fp32 | bf16 | int8) for decoding -> what to run in, and why."""
    if requested == "int8":
        if device.type != "cpu":
            raise UserError("--precision int8 is for CPU decoding; on a GPU use bf16 or auto")
        return Precision("int8", "int8 dynamic quantisation as asked")
    if requested != "auto":
        return training_precision(requested, device, flags=flags, arch=arch, runs=runs)
    native, why = native_bf16(device, flags, arch)
    if native:
        return Precision("bf16", f"bf16 autocast: {why}")
    vnni = has_vnni(flags) if device.type == "cpu" and (arch or cpu_arch()) == "x86" else ""
    if vnni:
        return Precision("int8", f"int8 dynamic quantisation: {why}, but has {vnni}")
    return Precision("fp32", f"fp32: {why} and no int8 dot products (VNNI)")
