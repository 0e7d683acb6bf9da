"""``aimlcat audit --engine dask``: the audit as a ``dask.bag`` job.

The bag holds the same :class:`~aimlcat._audit.Chunk` s the local engine runs,
one per partition; each is mapped by the same :func:`~aimlcat._audit.audit_chunk`
and the partial aggregates are combined by the same merge, as a Dask tree
reduction. Scheduling, data placement, retries after a lost worker: all Dask's.
With a findings table, the partitions are computed as futures a window at a
time and taken in order, so rows are written with their absolute line numbers
and neither the client nor the cluster holds more than a window of them.

Imported only for ``--engine dask``; nothing else in aimlcat imports Dask.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ._audit import AuditContext, Chunk, Partial, Rows, audit_chunk, merge_all
from ._exceptions import UsageError

__all__ = ["run_dask"]

#: Partial aggregates merged per node of the reduction tree.
SPLIT_EVERY = 16


def _imports() -> tuple[Any, Any, Any]:
    try:
        import dask.bag as db
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--engine dask needs Dask: pip install 'aimlcat[dask]' "
                         "(dask[distributed])") from None
    return db, Client, LocalCluster


@contextmanager
def _client(client: Any, scheduler: str | None, jobs: int) -> Iterator[Any]:
    """The client to use: the one given, one connected to ``scheduler``, or one of a new
    ``LocalCluster`` of ``jobs`` single-threaded worker processes (closed afterwards)."""
    if client is not None:
        yield client
        return
    _, Client, LocalCluster = _imports()
    if scheduler is not None:
        try:
            own = Client(scheduler, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with own:
            yield own
        return
    # Validation is Python work (the GIL): one thread per worker process. The scheduler's
    # HTTP server on a free port (None would still take 8787, and warn when it is taken).
    with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as own:
        yield own


#: Run by ``eval`` on the scheduler and each worker: a builtin and a string travel without
#: aimlcat, where a task of aimlcat's would not (a worker that cannot import a task's
#: function drops the connection and Dask retries it for ever).
_PROBE = "__import__('importlib').import_module('aimlcat._audit').versions()"


def _check_environment(cl: Any, mine: tuple[str, str]) -> None:
    """Refuse, with one message, a cluster whose machines lack this aimlcat.

    ``mine``: this aimlcat's version and that of the catalog the audit checks with (with
    extra catalogs, the merged one). The machines report their bundled catalog's: a merged
    catalog carries the bundled one's version (extra catalogs cannot set one), and the
    workers check with the client's compiled files, so the same aimlcat is what matters."""
    try:
        found = {"the scheduler": cl.run_on_scheduler(eval, _PROBE)}
        found.update((f"worker {w}", v) for w, v in sorted(cl.run(eval, _PROBE).items()))
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"the Dask cluster cannot run aimlcat audit ({exc}): install this "
                         f"aimlcat (aimlcat {mine[0]}, catalog {mine[1]}) on the scheduler "
                         "and every worker") from None
    for where, theirs in found.items():
        if tuple(theirs) != mine:
            raise UsageError(f"{where} runs aimlcat {theirs[0]} with catalog {theirs[1]}, "
                             f"this client aimlcat {mine[0]} with catalog {mine[1]}: install "
                             "the same version everywhere")


def _per_partition(results: Any) -> Partial:
    return merge_all(p for p, _ in results)


def _aggregate(partials: Any) -> Partial:
    return merge_all(partials)


def _task_failures() -> tuple[type[BaseException], ...]:
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    # A worker without aimlcat (ImportError on unpickling the task; a scheduler without it
    # raises RuntimeError, "Error during deserialization of the task graph"), one that
    # cannot reach the data, one killed again and again (out of memory), a cluster shut
    # down meanwhile.
    return (ImportError, RuntimeError, OSError, KilledWorker, CancelledError)


def _failed(exc: BaseException) -> UsageError:
    first = " ".join(str(exc).split()).split(". ", 1)[0].rstrip(".")  # its first sentence
    return UsageError(f"the Dask job failed: {type(exc).__name__}: {first} (do the scheduler "
                      "and the workers have this aimlcat installed, and can they read the "
                      "files?)")


def run_dask(ctx: AuditContext, chunks: Sequence[Chunk],
             take: Callable[[Chunk, Partial, Rows], None], *, jobs: int,
             scheduler: str | None = None, client: Any = None,
             files: Mapping[str, str] | None = None) -> Partial | None:
    """Audit ``chunks`` on a Dask cluster.

    Without a findings table (``ctx.rows`` false) the partitions are reduced on the
    cluster and the merged aggregate is returned; with one, each chunk's result goes
    to ``take`` in chunk order (see ``run_local``) and None is returned. ``files``: the
    compiled catalog ``ctx.catalog`` names, scattered to every worker once."""
    db, _, _ = _imports()
    if not chunks:
        return None
    from ._audit import _catalog
    from ._version import __version__

    _TASK_FAILURES = _task_failures()
    with _client(client, scheduler, jobs) as cl:
        _check_environment(cl, (__version__, _catalog(ctx.catalog, files).version))
        extra: tuple[Any, ...] = ()
        if files is not None:
            # Once to each worker, not in every task (a task's graph holds a reference):
            # embedded, the 4 MB would travel with each partition. Broadcast, so that
            # the scheduler does not crowd the tasks onto the worker that holds them.
            [shared] = cl.scatter([dict(files)], broadcast=True, hash=False)
            extra = (shared,)
        bag = db.from_sequence(list(chunks), npartitions=len(chunks))
        results = bag.map(audit_chunk, ctx, *extra)
        if not ctx.rows:
            total = results.reduction(_per_partition, _aggregate, split_every=SPLIT_EVERY)
            future = cl.compute(total)
            try:
                merged = future.result()
            except _TASK_FAILURES as exc:  # a task's error, raised again here by Dask
                raise _failed(exc) from None
            return merged if isinstance(merged, Partial) else None
        parts = results.to_delayed()
        window = max(4, 2 * sum(cl.nthreads().values()))
        todo = iter(zip(chunks, parts, strict=True))
        pending: deque[tuple[Chunk, Any]] = deque()
        for chunk, part in todo:
            pending.append((chunk, cl.compute(part)))
            if len(pending) >= window:
                break
        while pending:
            chunk, future = pending.popleft()
            try:
                ((partial, rows),) = future.result()
            except _TASK_FAILURES as exc:  # a task's error, raised again here by Dask
                raise _failed(exc) from None
            future.release()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt[0], cl.compute(nxt[1])))
            take(chunk, partial, rows)
    return None
