"""Run extraction tasks in worker processes so that one bad case fails only itself.

Local workers are loky processes (as joblib uses). Two things can go wrong that
an exception inside the case cannot report:

* a worker **dies** (the out-of-memory killer, a segmentation fault in C++
  code): every case still queued in that pool fails with it;
* a case **runs away** (a huge ROI at a tiny voxel size, a file that never
  finishes reading) and blocks its worker for hours.

Each worker therefore leaves a small marker file while it works on a case. When
the pool breaks, the cases with a marker were running; each is re-run alone in
a fresh one-worker pool (a case that kills that worker too is the culprit and
becomes an error row naming it), and the cases that had not started are
resubmitted to a fresh pool. A case whose marker is older than the time limit
is stopped by killing the pool; the other running cases are resubmitted.
"""
from __future__ import annotations

import numbers
import os
import shutil
import tempfile
import time

__all__ = ["run_tasks", "run_marked", "n_workers", "threads_per_case", "order_largest_first"]

_POLL = 0.25  # seconds between checks of the running cases


def run_marked(task, marks, index):
    """Worker side: run one case with a marker file present while it runs."""
    import radiomics.featureextractor  # noqa: F401 - imported before the clock starts
    import SimpleITK  # noqa: F401

    from radnb.extract._worker import process_case

    marker = os.path.join(marks, str(index))
    with open(marker, "w") as fh:
        fh.write(str(os.getpid()))
    try:
        return process_case(task)
    finally:
        try:
            os.unlink(marker)
        except OSError:
            pass


def run_tasks(tasks, order, n_workers, client=None, time_limit=None):
    """Yield ``(index, result)`` as cases finish; failures come back as error rows."""
    if not order:
        return
    if client is not None:
        yield from _run_dask(tasks, order, client)
    elif n_workers == 1:
        yield from _run_here(tasks, order, time_limit)
    else:
        yield from _run_local(tasks, order, n_workers, time_limit)


def error_row(stage, message):
    return {"status": "error", "stage": stage, "hits": 0, "misses": 0, "message": message}


def _run_dask(tasks, order, client):
    from distributed import as_completed

    from radnb.extract._worker import process_case

    # Dask queues tasks that have no inputs and hands them out by priority as workers
    # free up: the largest cases first (``order``), as in the local pool
    futures = {client.submit(process_case, tasks[i], pure=False, priority=len(order) - rank): i
               for rank, i in enumerate(order)}
    try:
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except Exception as exc:  # noqa: BLE001 - the worker died (e.g. out of memory)
                yield futures[fut], error_row("worker", f"WorkerDied: {type(exc).__name__}: {exc}")
    except BaseException:
        client.cancel(list(futures))
        raise


class _CaseTimeout(BaseException):
    """Raised by the alarm in this process (a BaseException so the case code does not catch it)."""


def _run_here(tasks, order, time_limit):
    """n_jobs=1: in this process; the time limit uses an alarm (main thread, Unix only)."""
    import signal
    import threading

    from radnb.extract._worker import process_case

    use_alarm = bool(time_limit) and hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread()
    for i in order:
        if not use_alarm:
            yield i, process_case(tasks[i])
            continue

        def alarm(signum, frame):
            raise _CaseTimeout

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
        try:
            result = process_case(tasks[i])
        except _CaseTimeout:
            result = error_row("timeout", f"Timeout: still running after {time_limit:g} s")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        yield i, result


def _run_local(tasks, order, n_workers, time_limit):
    marks = tempfile.mkdtemp(prefix="radnb-running-")
    try:
        queue = list(order)
        while queue:
            outcome = yield from _round(tasks, queue, n_workers, time_limit, marks)
            if outcome is None:
                return
            unfinished, started, late = outcome
            for i in late:
                yield i, error_row("timeout", f"Timeout: still running after {time_limit:g} s")
            # the pool was killed for a late case: the others are innocent, resubmit them;
            # a worker died: the cases that were running are suspects
            suspects = [] if late else (started or unfinished)
            for i in suspects:  # alone, so a second death names this case and no other
                alone = yield from _round(tasks, [i], 1, time_limit, marks)
                if alone is not None:
                    if alone[2]:
                        yield i, error_row("timeout", f"Timeout: still running after {time_limit:g} s")
                    else:
                        yield i, error_row("worker", "WorkerDied: the worker process stopped "
                                                     "while working on this case")
            queue = [i for i in unfinished if i not in suspects and i not in late]
    finally:
        shutil.rmtree(marks, ignore_errors=True)


def _round(tasks, indices, n_workers, time_limit, marks):
    """One pool run. Returns None when all finished, else (unfinished, started, late)."""
    from concurrent.futures import FIRST_COMPLETED, wait

    from joblib.externals.loky import get_reusable_executor
    from joblib.externals.loky.process_executor import BrokenProcessPool

    executor = get_reusable_executor(max_workers=n_workers, timeout=120)
    futures = {executor.submit(run_marked, tasks[i], marks, i): i for i in indices}
    waiting, broken, late = set(futures), False, []
    try:
        while waiting and not broken and not late:
            done, waiting = wait(waiting, timeout=_POLL, return_when=FIRST_COMPLETED)
            for fut in done:
                i = futures[fut]
                try:
                    yield i, fut.result()
                except BrokenProcessPool:  # TerminatedWorkerError and friends
                    broken = True
                    waiting.add(fut)
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be sent back
                    yield i, error_row("worker", f"{type(exc).__name__}: {exc}")
            if time_limit:
                now = time.time()
                late = [i for i in _started(marks) if now - _mtime(marks, i) > time_limit]
    except BaseException:  # KeyboardInterrupt: stop the workers, finished cases are cached
        executor.shutdown(wait=False, kill_workers=True)
        raise
    for fut in [f for f in waiting if f.done() and not f.cancelled() and f.exception() is None]:
        waiting.discard(fut)  # finished just before the pool broke
        yield futures[fut], fut.result()
    if not waiting:
        return None
    started = [i for i in _started(marks) if i in {futures[f] for f in waiting}]
    executor.shutdown(wait=True, kill_workers=True)
    for name in os.listdir(marks):
        os.unlink(os.path.join(marks, name))
    unfinished = [futures[f] for f in futures if f in waiting]
    return unfinished, started, [i for i in late if i in unfinished]


def n_workers(n_jobs, n_pending) -> int:
    """Local worker processes for ``n_jobs`` (-1: all cores) and ``n_pending`` cases."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive int or -1 (all cores); got {n_jobs!r}.")
    n_jobs = int(n_jobs)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = cores if n_jobs == -1 else n_jobs
    return max(1, min(n, n_pending))


def threads_per_case(n_workers, client=None):
    """SimpleITK / BLAS threads for one case (None: the libraries' defaults).

    One local process: the defaults (all cores). Several local workers, or a Dask
    cluster on this machine: the cores shared by the workers' threads.
    """
    if client is not None:
        return _dask_threads(client)
    if n_workers == 1:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // n_workers)


def _dask_threads(client):
    """Threads per case on a Dask cluster whose workers all run on this machine.

    The cores shared by all worker threads (a ``LocalCluster`` with 2 workers x
    1 thread on 2 cores: 1); None (library defaults) for a remote cluster.
    """
    import socket

    try:
        workers = client.scheduler_info()["workers"].values()
    except Exception:  # noqa: BLE001 - an unusual scheduler: keep the defaults
        return None
    here = {"127.0.0.1", "localhost", "::1", socket.gethostname()}
    try:
        here.add(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    if not workers or any(w.get("host") not in here for w in workers):
        return None
    total = sum(int(w.get("nthreads", 1)) for w in workers)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(total, 1))


def order_largest_first(pending, rows) -> list:
    """Indices of ``pending`` rows, the largest image + mask on disk first.

    A greedy schedule over workers ends close to the ideal when the last cases
    to start are the short ones: no worker then waits long for the others.
    """
    return sorted(pending, key=lambda i: -(_size(rows[i]["image"]) + _size(rows[i]["mask"])))


def _size(path) -> int:
    """Bytes on disk of a file, or of the files in a folder (a DICOM series)."""
    try:
        if os.path.isdir(path):
            return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
        return os.path.getsize(path)
    except OSError:
        return 0


def _started(marks):
    return [int(name) for name in os.listdir(marks) if name.isdigit()]


def _mtime(marks, i):
    try:
        return os.path.getmtime(os.path.join(marks, str(i)))
    except OSError:
        return time.time()
