"""Where chunk outputs go: an in-memory collector, and a run folder's finished chunks on disk.

A run keeps per draw only what ``mc.keep`` asks for (national trajectories always), so its memory
is the chunk being simulated plus these small per-draw outputs. With a run folder, each finished
chunk is also written there at once, atomically, under a fingerprint of the run's configuration:
an interrupted run resumes (``mc.resume=true``) from the chunks it finished, and chunks of another
configuration are never taken for this one's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sim.drivers import ChunkResult
from sim.runfolder import temp_beside
from sim.spec import ConfigError, Spec

#: Version of the chunk-file layout; part of every fingerprint.
FORMAT = "aiplus-sim/chunk/1"
#: Sub-folder of a run folder that holds finished chunks until the results are written.
CHUNKS = "chunks"
#: ``mc.keep`` entry -> the ChunkResult field it keeps.
FIELDS = {"national": "share", "province": "share_province", "sector": "share_sector"}
#: Every per-draw ChunkResult field that is gathered and stored (shock onsets always, if any).
STORED = (*FIELDS.values(), "events")
#: What reading a damaged or foreign chunk file can raise.
_UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def spec_key(spec: Spec) -> str:
    """Fingerprint of everything that decides a run's numbers.

    Where chunks run (backend, workers, threads, scheduler), whether the run resumes or replaces a
    finished one, and the scenario's title and description do not change any number, so they are
    left out; every other field of the spec (seed, draws, chunk size, population, priors, levers,
    rules, ...) is in.
    """
    mc = replace(
        spec.mc,
        backend="serial",
        workers=None,
        threads=None,
        scheduler=None,
        resume=False,
        overwrite=False,
    )
    scenario = replace(spec.scenario, title="", description="")
    # The overrides as typed name the run; their effect is in the other fields (mc.resume=true
    # itself, say, must not make a run's own chunks look foreign).
    text = f"{FORMAT}\n{replace(spec, mc=mc, scenario=scenario, overrides=())!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def trim(chunk: ChunkResult, keep: tuple[str, ...]) -> ChunkResult:
    """Drop the per-draw outputs that ``keep`` does not ask for (national is always kept)."""
    return replace(
        chunk,
        share_province=chunk.share_province if "province" in keep else None,
        share_sector=chunk.share_sector if "sector" in keep else None,
    )


class Collector:
    """Gathers chunks, in any order, into arrays preallocated for all draws.

    Parameters
    ----------
    n_draws : int
        Draws of the run; chunk ``draws`` index the arrays.
    """

    def __init__(self, n_draws: int) -> None:
        self.n_draws = n_draws
        self._out: dict[str, NDArray[np.float32] | None] | None = None
        self._seen = np.zeros(n_draws, dtype=bool)

    @property
    def n_done(self) -> int:
        return int(self._seen.sum())

    def add(self, chunk: ChunkResult) -> None:
        if self._out is None:
            self._out = {
                f: None
                if (a := getattr(chunk, f)) is None
                else np.empty((self.n_draws, *a.shape[1:]), dtype=a.dtype)
                for f in STORED
            }
        if self._seen[chunk.draws].any():
            raise ValueError(f"draws {chunk.draws[0]}-{chunk.draws[-1]} arrived twice")
        for f, out in self._out.items():
            if out is not None:
                out[chunk.draws] = getattr(chunk, f)
        self._seen[chunk.draws] = True

    def result(self) -> ChunkResult:
        """Every draw as one ChunkResult."""
        if self._out is None or not self._seen.all():
            raise ValueError(f"{self.n_draws - self.n_done} draws are missing")
        return ChunkResult(np.arange(self.n_draws, dtype=np.int64), **self._out)


class ChunkFolder:
    """Finished chunks of one run, one ``.npz`` file each, in ``folder``.

    Parameters
    ----------
    folder : Path
        ``RUN_FOLDER/chunks``.
    key : str
        The run's :func:`spec_key`; stored in every file and checked on reading.
    """

    def __init__(self, folder: Path, key: str) -> None:
        self.folder, self.key = Path(folder), key

    def path(self, first: int, stop: int) -> Path:
        return self.folder / f"draws-{first:09d}-{stop:09d}.npz"

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("draws-*.npz"))

    def check(self, *, resume: bool) -> None:
        """Refuse to mix runs: without ``resume``, a folder with finished chunks (an interrupted
        run's work) is not overwritten; with it, every chunk must be of this configuration."""
        files = self.files()
        run = str(self.folder.parent)
        if files and not resume:
            raise ConfigError(
                run,
                "mc.resume",
                f"{len(files)} finished chunks of an interrupted run are here; rerun with "
                "mc.resume=true to finish it, or choose another hydra.run.dir",
            )
        for f in files:
            key = _stored_key(f)
            if key is not None and key != self.key:
                raise ConfigError(
                    run,
                    "mc.resume",
                    f"{f.name} was computed with another configuration (seed, draws, chunk, "
                    "scenario or model settings differ); resume with the same settings, or "
                    "choose another hydra.run.dir",
                )

    def load(self, first: int, stop: int) -> ChunkResult | None:
        """The finished chunk of draws ``first`` to ``stop - 1``, or None if there is no valid
        one (missing, unreadable, or of another configuration): it is then simulated again."""
        try:
            with np.load(self.path(first, stop), allow_pickle=False) as z:
                if str(z["key"]) != self.key:
                    return None
                draws = z["draws"]
                if not np.array_equal(draws, np.arange(first, stop)):
                    return None
                arrays = {f: z[f] if f in z.files else None for f in STORED}
        except _UNREADABLE:
            return None
        return ChunkResult(draws.astype(np.int64), **arrays)

    def save(self, chunk: ChunkResult) -> Path:
        """Write ``chunk`` atomically: to a temporary file, flushed to disk, then renamed, so a
        file under a finished chunk's name is always complete."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(int(chunk.draws[0]), int(chunk.draws[-1]) + 1)
        arrays = {f: a for f in STORED if (a := getattr(chunk, f)) is not None}
        tmp = temp_beside(path)
        try:
            with open(tmp, "xb") as fh:
                np.savez(fh, key=np.array(self.key), draws=chunk.draws, **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path


def _stored_key(path: Path) -> str | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return str(z["key"])
    except _UNREADABLE:
        return None


def chunk_folder(run_folder: Path, spec: Spec) -> ChunkFolder:
    """The chunk store of a run folder."""
    return ChunkFolder(Path(run_folder) / CHUNKS, spec_key(spec))


def remove_chunks(run_folder: Path) -> None:
    """Delete a run folder's chunk files once its results are safely written: the finished
    chunks and their temporary files, and the chunks folder if nothing else is in it (a file a
    user put there stays)."""
    folder = Path(run_folder) / CHUNKS
    for p in (*folder.glob("draws-*.npz"), *folder.glob(".draws-*.tmp")):
        p.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()
