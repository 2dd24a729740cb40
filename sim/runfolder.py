"""Run folders written whole or not at all, each owned by one run at a time.

A run is built in a sibling folder, ``RUN.partial``, and renamed to ``RUN`` once everything is
written, so the folder the user named holds one finished run, never half of one nor pieces of two.
While a run is in progress it holds an advisory lock (``flock``) on ``RUN.partial/.lock``, which the
system releases if the process dies: a second run into the same folder is refused, not
interleaved. An interrupted run leaves ``RUN.partial`` with its finished chunks, from which
``mc.resume=true`` continues.

A folder that holds a finished run is refused unless the run asks to replace it
(``mc.overwrite=true``); the new folder then takes its place whole and the old one is removed. A
folder that holds anything else is never written into nor removed.

Only the files a run writes (:data:`OUTPUTS`, Hydra's records, charts, temporary files) are ever
removed from ``RUN.partial``; a file a user puts there stays and moves with the run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from sim.vocab import ConfigError

#: Suffix of the sibling folder a run is built in.
PARTIAL = ".partial"
#: Lock file inside the folder a run is built in.
LOCK = ".lock"
#: Files a run writes at the top of its folder (and of a comparison's scenario folders).
OUTPUTS = (
    "config.yaml",
    "results.nc",
    "summary.json",
    "comparison.json",
    "report.md",
    "report.html",
    "odds.csv",
)
#: Files that mark a folder as holding a finished run (a single run, a comparison or a sweep).
FINISHED = ("summary.json", "comparison.json", "odds.csv")
#: Files Hydra writes into a run folder: its records and the job's log.
_HYDRA = (".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml")
_CHART_SUFFIXES = (".png", ".svg")


def partial_of(final: Path) -> Path:
    """The sibling folder in which the run for ``final`` is built: ``final`` + ``.partial``."""
    final = Path(final)
    return final.with_name(final.name + PARTIAL)


def absolute(path: Path | str) -> Path:
    """``path`` with ``~`` expanded, made absolute and normalised (``..`` removed)."""
    return Path(os.path.abspath(Path(path).expanduser()))


def temp_beside(path: Path) -> Path:
    """A fresh hidden temporary name beside ``path``, for writing it atomically.

    The file is created by whoever writes it, so it gets the mode every other file gets (0666
    less the umask, usually 0644), not the 0600 of :func:`tempfile.mkstemp`.
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def is_finished(folder: Path) -> bool:
    """Whether ``folder`` holds a finished run."""
    return any((Path(folder) / name).is_file() for name in FINISHED)


def check(final: Path, *, overwrite: bool) -> None:
    """Refuse, before anything is written, a run folder that a run could not own.

    Reads only. Refused: a path that is not a folder or cannot be created; a folder holding a
    finished run, unless ``overwrite``; a folder holding anything else; a run in progress.

    Parameters
    ----------
    final : Path
        The run folder (``hydra.run.dir``), absolute.
    overwrite : bool
        Whether a finished run in ``final`` may be replaced (``mc.overwrite``).

    Raises
    ------
    sim.vocab.ConfigError
        Naming the folder, the key (``hydra.run.dir`` or ``mc.overwrite``) and what to do.
    """
    final = Path(final)
    if final.name in ("", ".", ".."):
        raise ConfigError(str(final), "hydra.run.dir", "not a folder a run can be written to")
    partial = partial_of(final)
    _check_creatable(final)
    _check_creatable(partial)
    _check_state(final, overwrite=overwrite)
    holder = _holder(partial)
    if holder is not None:
        raise ConfigError(
            str(final),
            "hydra.run.dir",
            f"another run is writing this folder{holder}; wait for it to finish or choose "
            "another hydra.run.dir",
        )


class Claim:
    """A run folder being built: ``partial`` is where the run writes; :meth:`commit` publishes it.

    Made by :func:`claim`, which holds the folder's lock while the claim lives.
    """

    def __init__(self, final: Path, *, overwrite: bool, lock_fd: int) -> None:
        self.final, self.partial = Path(final), partial_of(final)
        self.overwrite, self._fd, self.committed = overwrite, lock_fd, False

    def commit(self) -> Path:
        """Rename the finished run into place: ``partial`` becomes ``final``, replacing a
        finished run there whole when the claim allows it. Returns ``final``."""
        (self.partial / LOCK).unlink(missing_ok=True)  # still held through the open descriptor
        state = _state(self.final)
        if state == "other" or (state == "finished" and not self.overwrite):
            raise ConfigError(
                str(self.final),
                "hydra.run.dir",
                f"other files appeared here while the run was in progress; its results are in "
                f"{self.partial}",
            )
        old = None
        if state == "finished":
            old = self.final.with_name(f".{self.final.name}.replaced-{secrets.token_hex(4)}")
            os.rename(self.final, old)
        try:
            os.rename(self.partial, self.final)  # onto an empty folder, or none
        except BaseException:
            if old is not None:
                os.rename(old, self.final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        _sync(self.final.parent)
        self.committed = True
        return self.final


@contextlib.contextmanager
def claim(final: Path, *, overwrite: bool, subfolders: Sequence[str] = ()) -> Iterator[Claim]:
    """Own the run folder ``final`` while the body builds it in ``partial_of(final)``.

    Creates the partial folder (or takes over an interrupted run's, whose chunks stay), takes its
    lock, and removes what an earlier attempt wrote there besides its chunks. If the body fails
    or is interrupted before :meth:`Claim.commit`, the files this run wrote are removed, the
    finished chunks stay for ``mc.resume=true``, and the partial folder goes if nothing is left.

    Parameters
    ----------
    final : Path
        The run folder, absolute; :func:`check` has accepted it.
    overwrite : bool
        Whether a finished run in ``final`` may be replaced.
    subfolders : sequence of str
        Sub-folders the run writes outputs into (a comparison's scenario folders).

    Raises
    ------
    sim.vocab.ConfigError
        When another run holds the folder, or ``final`` changed since :func:`check`.
    """
    final = Path(final)
    partial = partial_of(final)
    partial.parent.mkdir(parents=True, exist_ok=True)
    fd = _lock(final, partial)
    try:
        _check_state(final, overwrite=overwrite)
        remove_outputs(partial, subfolders)
        run = Claim(final, overwrite=overwrite, lock_fd=fd)
        try:
            yield run
        except BaseException:
            if not run.committed:
                remove_outputs(partial, subfolders)
                (partial / LOCK).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    partial.rmdir()  # only if nothing is left
            raise
    except ConfigError:
        (partial / LOCK).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            partial.rmdir()
        raise
    finally:
        os.close(fd)


def remove_outputs(folder: Path, subfolders: Sequence[str] = ()) -> None:
    """Remove the files a run writes in ``folder`` (and in its ``subfolders``), nothing else:
    :data:`OUTPUTS`, Hydra's records and log, charts and hidden temporary files. Chunks stay."""
    folder = Path(folder)
    for base in (folder, *(folder / s for s in subfolders)):
        if not base.is_dir():
            continue
        for name in OUTPUTS:
            (base / name).unlink(missing_ok=True)
        for p in base.glob(".*.tmp"):
            p.unlink(missing_ok=True)
    for p in folder.glob("*.log"):
        p.unlink(missing_ok=True)
    for rel in _HYDRA:
        (folder / rel).unlink(missing_ok=True)
    charts = folder / "charts"
    if charts.is_dir():
        for p in charts.iterdir():
            if p.suffix in _CHART_SUFFIXES or p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)
    for sub in (".hydra", "charts", *subfolders):
        with contextlib.suppress(OSError):
            (folder / sub).rmdir()  # only if empty


def _state(folder: Path) -> str:
    """``absent``, ``empty``, ``finished`` (a finished run's folder) or ``other``."""
    if not folder.exists():
        return "absent"
    if not any(folder.iterdir()):
        return "empty"
    return "finished" if is_finished(folder) else "other"


def _check_state(final: Path, *, overwrite: bool) -> None:
    state = _state(final)
    if state == "finished" and not overwrite:
        raise ConfigError(
            str(final),
            "mc.overwrite",
            "holds a finished run; rerun with mc.overwrite=true to replace it whole, or choose "
            "another hydra.run.dir",
        )
    if state == "other":
        if any((final / "chunks").glob("draws-*.npz")):
            raise ConfigError(
                str(final),
                "hydra.run.dir",
                f"holds an interrupted run of an earlier version; rename the folder to "
                f"{partial_of(final).name} and rerun with mc.resume=true to finish it",
            )
        names = sorted(p.name for p in final.iterdir())
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise ConfigError(
            str(final),
            "hydra.run.dir",
            f"exists and holds files that are not a finished run ({shown}); choose a new or "
            "empty folder",
        )


def _check_creatable(path: Path) -> None:
    """Fail unless ``path`` is a folder or can be created as one."""
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise ConfigError(str(path), "hydra.run.dir", "exists and is not a folder")
        return
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(
            str(path), "hydra.run.dir", f"cannot be created: {ancestor} is not a folder"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(
            str(path), "hydra.run.dir", f"cannot be created: no permission to write in {ancestor}"
        )


def _holder(partial: Path) -> str | None:
    """``" (process N)"`` when a run holds the lock of ``partial``, else None. Reads only."""
    try:
        fd = os.open(partial / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.read(fd, 32).decode(errors="replace").strip()
        return f" (process {pid})" if pid.isdigit() else ""
    finally:
        os.close(fd)  # closing releases a shared lock taken just to look
    return None


def _lock(final: Path, partial: Path) -> int:
    """Create ``partial`` if needed and take its lock; the descriptor that holds it."""
    for _ in range(10):
        with contextlib.suppress(FileExistsError):
            partial.mkdir()
        try:
            fd = os.open(partial / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        except FileNotFoundError:
            continue  # a run that held it has just renamed it into place
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise ConfigError(
                str(final),
                "hydra.run.dir",
                f"another run is writing this folder"
                f"{f' (process {pid})' if pid.isdigit() else ''}; wait for it to finish or "
                "choose another hydra.run.dir",
            ) from None
        try:
            same = os.stat(partial / LOCK).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder finished and removed the lock between our open and flock
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd
    raise ConfigError(str(final), "hydra.run.dir", "could not take the folder's lock; try again")


def _sync(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk, where the system allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
