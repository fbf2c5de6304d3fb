"""Where chunks run: in this process, on a local process pool, or on a Dask distributed cluster.

Results are yielded as chunks finish (in any order); a chunk's result does not depend on where it ran.
Dask is imported only when asked for (extra ``distributed``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from ..errors import ConfigError

T = TypeVar("T")


def run_tasks(func: Callable[[Any], T], tasks: Sequence[tuple[int, Any]], *, workers: int | None = None,
              scheduler: str | None = None, local: str = "processes",
              executor: Executor | None = None) -> Iterator[tuple[int, T]]:
    """Yield ``(key, func(arg))`` for every ``(key, arg)`` in ``tasks``.

    ``executor``: any :class:`concurrent.futures.Executor` the caller owns (a process pool, or a Dask
    client's ``client.get_executor()``); it is used as given and not shut down. Otherwise ``scheduler``:
    address of a running Dask scheduler (``tcp://HOST:PORT``); ``workers``: with ``local="dask"`` the size
    of a local Dask cluster started for this run, otherwise of a local process pool. With none of these (or
    one task) everything runs in this process.
    """
    if executor is not None:
        yield from _bounded(executor, func, tasks, slots=2 * (os.cpu_count() or 1))
        return
    if scheduler is not None or local == "dask":
        yield from _dask(func, tasks, scheduler, workers)
        return
    n = workers if workers is not None else 1
    if n <= 1 or len(tasks) <= 1:
        for key, arg in tasks:
            yield key, func(arg)
        return
    # spawn, not fork: the parent may already run numba's OpenMP threads, which fork() cannot copy safely.
    # At most 2 chunks per worker are in flight, and a finished chunk is dropped once yielded, so memory
    # stays flat however many chunks a run has.
    with ProcessPoolExecutor(max_workers=min(n, len(tasks)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        yield from _bounded(pool, func, tasks, slots=2 * n)


def exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """Pool-worker initializer: end the worker when its parent is gone (a killed ``reawaken cohort`` must not
    leave workers computing chunks nobody will write)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(3)

    threading.Thread(target=watch, daemon=True, name="reawaken-parent-watch").start()


def _bounded(pool: Executor, func: Callable[[Any], T], tasks: Sequence[tuple[int, Any]], *,
             slots: int) -> Iterator[tuple[int, T]]:
    """At most ``slots`` tasks in flight, results yielded as they finish and then dropped."""
    pending = iter(tasks)
    running: dict[Any, int] = {}

    def refill() -> None:
        while len(running) < slots:
            nxt = next(pending, None)
            if nxt is None:
                return
            running[pool.submit(func, nxt[1])] = nxt[0]

    refill()
    while running:
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for fut in done:
            key = running.pop(fut)
            yield key, fut.result()
        refill()


def _dask(func: Callable[[Any], T], tasks: Sequence[tuple[int, Any]], scheduler: str | None,
          workers: int | None) -> Iterator[tuple[int, T]]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("Dask is not installed; pip install 'reawaken[distributed]'") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        pending = iter(tasks)
        running: dict[Any, int] = {}
        slots = 2 * max(1, len(client.scheduler_info()["workers"]))

        def refill(queue: Any = None) -> None:
            while len(running) < slots:
                nxt = next(pending, None)
                if nxt is None:
                    return
                fut = client.submit(func, nxt[1], pure=False)
                running[fut] = nxt[0]
                if queue is not None:
                    queue.add(fut)

        refill()
        queue = dask_completed(list(running))
        for fut in queue:
            key = running.pop(fut)
            result = fut.result()
            fut.release()  # a finished chunk is not kept on the cluster
            yield key, result
            refill(queue)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
