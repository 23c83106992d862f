"""The machine a benchmark ran on, recorded in every results file: a ratio is read with its machine.

.venv/bin/python bench/machine.py      # prints this machine's record
"""

from __future__ import annotations

import datetime
import json
import os
import platform

import torch

from seq2seq.precision import cpu_flags, decoding_precision, training_precision

# the flags that decide a speed path (seq2seq.precision) or explain a figure
FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_bf16",
    "amx_int8",
    "bf16",
    "i8mm",
    "sve",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model name", "Hardware"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_family() -> str:
    """x86 vendor, family and model (Zen 3 = AMD family 25; Zen 5 = 26), or ''."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if not key.strip():
                    break
                fields[key.strip()] = value.strip()
    except OSError:
        return ""
    if "vendor_id" not in fields:
        return ""
    return f"{fields['vendor_id']} family {fields.get('cpu family')} model {fields.get('model')}"


def describe() -> dict:
    """CPU model, family, the flags that matter, threads, torch, GPU, and precision `auto`."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    flags = cpu_flags()
    return {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpu_family": cpu_family(),
        "flags": [f for f in FLAGS if f in flags],
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "auto_training_precision": training_precision("auto", device).reason,
        "auto_decoding_precision": decoding_precision("auto", device).reason,
    }


def one_line(m: dict | None = None) -> str:
    m = m or describe()
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
    return (
        f"{m['cpu']} ({m['cpu_family'] or 'family unknown'}; {' '.join(m['flags']) or 'no flags read'}), "
        f"{m['threads']} threads, torch {m['torch']}{gpu}"
    )


def results(rows, **extra) -> dict:
    """A results file's content: the machine first, then what was measured on it."""
    return {"machine": describe(), **extra, "rows": rows}


def rows_of(data) -> list:
    """The measured rows of a results file, of this format or the older bare list."""
    return data["rows"] if isinstance(data, dict) else data


if __name__ == "__main__":
    print(json.dumps(describe(), indent=2))
