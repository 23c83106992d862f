"""A teacher's outputs for a list of sources, cached in chunks: a killed labelling run
restarts where it stopped, and ends with the files an uninterrupted run writes.

The sources are cut into fixed chunks of `chunk` sentences; each chunk's outputs are
written whole (a temp file renamed into place) as `chunk-NNNNN.jsonl`, one
{"src", "hyp"} object per line. A rerun decodes only the chunks whose file is missing.
Decoding one chunk does not depend on which chunks were decoded before (a chunk is one
call of the labeller), so the files are the same however often the run was stopped.
`manifest.json` records what the outputs depend on (the teachers, their decoding
settings, the sources); a rerun with anything else is refused instead of mixing outputs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ..data.io import write_text
from ..errors import UserError

MANIFEST = "manifest.json"


def fingerprint(texts: list[str]) -> str:
    """sha256 of the texts, one per line."""
    return hashlib.sha256("".join(t + "\n" for t in texts).encode("utf-8")).hexdigest()


class LabelCache:
    def __init__(self, folder: str | Path, identity: dict, sources: list[str], chunk: int):
        if chunk < 1:
            raise UserError(f"--chunk {chunk}: give 1 or more sentences per chunk")
        self.folder, self.sources, self.chunk = Path(folder), sources, chunk
        self.manifest = {
            **identity,
            "chunk": chunk,
            "sources": len(sources),
            "sources_sha256": fingerprint(sources),
        }
        self._check_manifest()

    def _check_manifest(self) -> None:
        path = self.folder / MANIFEST
        if path.is_file():
            old = json.loads(path.read_text(encoding="utf-8"))
            changed = sorted(
                k for k in old.keys() | self.manifest.keys() if old.get(k) != self.manifest.get(k)
            )
            if changed:
                raise UserError(
                    f"{self.folder}: its teacher outputs were made with other {', '.join(changed)}; "
                    "use another --out, or delete that folder to label again"
                )
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_text(path, json.dumps(self.manifest, indent=1) + "\n", "--out")

    @property
    def chunks(self) -> int:
        return -(-len(self.sources) // self.chunk)

    def _path(self, i: int) -> Path:
        return self.folder / f"chunk-{i:05d}.jsonl"

    def missing(self) -> list[int]:
        return [i for i in range(self.chunks) if not self._path(i).is_file()]

    def fill(
        self, label: Callable[[list[str]], list[str]], *, budget: int | None = None, progress=None
    ) -> bool:
        """Label the missing chunks in order, at most `budget` of them; True when all are done."""
        todo = self.missing()
        for n, i in enumerate(todo):
            if budget is not None and n >= budget:
                return False
            part = self.sources[i * self.chunk : (i + 1) * self.chunk]
            hyps = label(part)
            if len(hyps) != len(part):
                raise RuntimeError(f"the labeller returned {len(hyps)} outputs for {len(part)}")
            lines = (
                json.dumps({"src": s, "hyp": h}, ensure_ascii=False) for s, h in zip(part, hyps)
            )
            write_text(self._path(i), "".join(line + "\n" for line in lines), "--out")
            if progress is not None:
                progress.update(len(part))
        return True

    def outputs(self) -> list[str]:
        """The teacher's output for every source, in order (all chunks must be there)."""
        hyps = []
        for i in range(self.chunks):
            part = self.sources[i * self.chunk : (i + 1) * self.chunk]
            rows = [
                json.loads(line) for line in self._path(i).read_text(encoding="utf-8").splitlines()
            ]
            if [r["src"] for r in rows] != part:
                raise UserError(
                    f"{self._path(i)}: not the outputs of this chunk's sources; delete it to label it again"
                )
            hyps.extend(r["hyp"] for r in rows)
        return hyps
