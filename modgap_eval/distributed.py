"""Data-parallel evaluation: which rank this process is, its shard of the samples, gathering to rank 0.

Launchers (``torchrun``, ``accelerate launch``) set ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
without them the process is rank 0 of 1 and every function here is a no-op. Samples (not requests)
are sharded, so both modalities of a sample run on the same rank and pairing holds. Results travel
to rank 0 as picklable objects over a gloo process group (CPU, so it works with or without GPUs);
rank 0 then scores and writes exactly as a single process would.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from modgap_eval.errors import ConfigError

T = TypeVar("T")
V = TypeVar("V")


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def detect(environ: Mapping[str, str] | None = None) -> DistInfo:
    """Rank, world size and local rank from the launcher's environment variables."""
    env = os.environ if environ is None else environ
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise ConfigError(f"RANK/WORLD_SIZE/LOCAL_RANK must be integers: {exc}") from exc
    if world < 1 or not 0 <= rank < world:
        raise ConfigError(f"inconsistent launcher environment: RANK={rank}, WORLD_SIZE={world}")
    return DistInfo(rank, world, local)


def device_for(device: str, info: DistInfo) -> str:
    """Each rank takes its own GPU: a bare ``cuda`` becomes ``cuda:<local_rank>``."""
    if device == "cuda" and info.enabled:
        return f"cuda:{info.local_rank}"
    return device


def shard(items: Sequence[T], info: DistInfo) -> list[T]:
    """This rank's items: every ``world_size``-th one starting at ``rank`` (balanced lengths when sorted)."""
    return list(items[info.rank :: info.world_size])


def gather(obj: T, info: DistInfo) -> list[T] | None:
    """Every rank's ``obj`` in rank order on rank 0; None on the others. ``[obj]`` for one process."""
    if not info.enabled:
        return [obj]
    import torch.distributed as dist

    if not dist.is_initialized():  # the first gather joins the gloo process group
        dist.init_process_group(backend="gloo", rank=info.rank, world_size=info.world_size)
    parts: list[Any] | None = [None] * info.world_size if info.is_main else None
    dist.gather_object(obj, parts, dst=0)
    return parts


def merge(parts: Sequence[Mapping[str, V]]) -> dict[str, V]:
    """Union of per-rank ``{sample_id: value}`` maps; a sample on two ranks is a sharding bug."""
    merged: dict[str, V] = {}
    for part in parts:
        clash = merged.keys() & part.keys()
        if clash:
            raise RuntimeError(f"samples evaluated on two ranks: {sorted(clash)[:5]}")
        merged.update(part)
    return merged


def gather_merged(part: Mapping[str, V], info: DistInfo) -> dict[str, V] | None:
    """``merge(gather(part))`` on rank 0, None elsewhere."""
    parts = gather(dict(part), info)
    return merge(parts) if parts is not None else None


def finish(info: DistInfo) -> None:
    """Leave the process group (call once at the end of a launched run)."""
    if info.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()
