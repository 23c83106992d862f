"""torchrun environment -> process group; rank-0 decisions broadcast to every rank.

Launch with `torchrun --nproc_per_node N -m seq2seq train CONFIG`; across machines add
torchrun's rendezvous flags (`--nnodes 2 --node_rank R --rdzv_backend c10d
--rdzv_endpoint HOST:PORT`). Without torchrun's variables everything is one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def from_environment() -> Dist:
    """This process's place as torchrun describes it (the one place the variables are read)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist()
    return Dist(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def init() -> Dist:
    """Join the process group torchrun describes (gloo on CPU, nccl on GPU)."""
    info = from_environment()
    if info.enabled and not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return info


def all_sum(value: float | int, info: Dist, device) -> float:
    """Sum of a number over all ranks."""
    if not info.enabled:
        return value
    t = torch.tensor([float(value)], device=device)
    dist.all_reduce(t)
    return float(t.item())


def from_main(values: list[float], info: Dist, device) -> list[float]:
    """Rank 0's values of some decisions (stop, early stop, lr halvings), on every rank."""
    if not info.enabled:
        return values
    t = torch.tensor([float(v) for v in values], device=device)
    dist.broadcast(t, src=0)
    return t.tolist()


def shutdown(info: Dist, *, clean: bool = True) -> None:
    """Leave the process group; without this, gloo's threads can abort the process at exit."""
    if info.enabled and dist.is_initialized():
        if clean:
            dist.barrier()  # no rank leaves while another still talks to it
        dist.destroy_process_group()
