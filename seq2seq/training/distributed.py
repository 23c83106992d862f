"""torchrun environment -> process group; rank-0 decisions broadcast to every rank.

Launch with `torchrun --nproc_per_node N -m seq2seq train CONFIG`; across machines add
torchrun's rendezvous flags (`--nnodes 2 --node_rank R --rdzv_backend c10d
--rdzv_endpoint HOST:PORT`). Without torchrun's variables everything is one process.

Leaving the group must end its threads (gloo: two workers and a socket loop). They end when
the last reference to the group goes, so `shutdown` runs after the DDP wrapper is dropped,
and `init` imports `torch.distributed.nn.functional` first: DDP imports it (through
torch._dynamo), and its functions bind `group=group.WORLD` as a default argument, so
imported after the group exists they would hold the group for the life of the process.
Such a group outlives `destroy_process_group` and is torn down in the middle of interpreter
shutdown (when the garbage collector clears that module), its three threads running until
then. Every torchrun run did that before this was handled, and runs were reported to end at
exit, now and then, in "terminate called without an active exception" after their results
were saved.
"""

from __future__ import annotations

import os
import warnings
import weakref
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import UserError


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
        import torch.distributed.nn.functional  # noqa: F401  before the group: see the docstring

        if torch.cuda.is_available():
            gpus = torch.cuda.device_count()
            if info.local_rank >= gpus:
                raise UserError(
                    f"torchrun started more processes on this machine than it has GPUs ({gpus}): "
                    f"use --nproc_per_node {gpus}, or hide the GPUs (CUDA_VISIBLE_DEVICES=) "
                    "to train on CPU"
                )
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


def shutdown(info: Dist, *, clean: bool = True) -> bool:
    """Leave the process group and end its threads; call it after dropping the DDP wrapper.
    True if the group is gone; a group something still holds gets a warning (see the
    module docstring), since its threads would run on into interpreter shutdown."""
    if not (info.enabled and dist.is_initialized()):
        return True
    if clean:
        dist.barrier()  # no rank leaves while another still talks to it
    group = weakref.ref(dist.group.WORLD)
    dist.destroy_process_group()
    if group() is None:
        return True
    warnings.warn(
        "the process group outlived destroy_process_group (something still holds it); "
        "its threads will be torn down at interpreter exit",
        RuntimeWarning,
        stacklevel=2,
    )
    return False
