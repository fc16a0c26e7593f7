"""Run a model in a worker process of its own, with memory and time limits.

An uploaded model is a program (PyTorch's own security policy says so): a ``.pt2`` or
TorchScript file can carry native code, and even a file that runs no code can exhaust
memory or crash a native library. The app therefore loads each upload in a separate
process and runs every computation on it there. If the process dies (a crash, the memory
limit, a timeout), the caller gets an :class:`ExplainError` saying what happened, the
server and the session live on, and the next call starts a fresh worker that loads the
model again from the bytes it came from.

The worker is started with ``spawn`` (a clean interpreter, no state inherited from the
server), its address space is capped with ``RLIMIT_AS``, it exits when the server dies or
when it has been idle for a while, and a call that runs past its time limit is killed.
Cancelling (an exception in the caller while it waits, e.g. Streamlit stopping a run)
interrupts the computation with SIGINT and keeps the worker and its model.

Functions sent to a worker must be importable by name (module-level functions), and
their arguments and results picklable: the result types of :mod:`explain.results` are.

Settings (environment variables): ``EXPLAIN_WORKER_MEMORY_MB`` (address space added to
what the worker has after start-up; default 8192), ``EXPLAIN_WORKER_TIMEOUT`` (seconds
per call; default 1800), ``EXPLAIN_WORKER_IDLE`` (seconds before an idle worker exits;
default 3600).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from explain import errors
from explain.errors import ExplainError

__all__ = ["Worker", "InProcess", "WorkerError", "settings", "in_worker", "WORKER_NAME"]

WORKER_NAME = "explain-model-worker"  # the worker processes' name


def in_worker() -> bool:
    """Whether this code runs in a model's worker process (where an upload may be loaded).

    Example:
        >>> in_worker()
        False
    """
    return multiprocessing.current_process().name == WORKER_NAME

_START_TIMEOUT = 300.0  # seconds to import torch and load the model


class WorkerError(ExplainError, RuntimeError):
    """The worker process running the model stopped (crash, memory limit or timeout)."""


def settings() -> dict[str, float]:
    """The worker limits from the environment (see the module docstring).

    Example:
        >>> sorted(settings())
        ['idle_s', 'memory_mb', 'timeout_s']
    """
    def number(name: str, default: float) -> float:
        try:
            return float(os.environ.get(name, default))
        except ValueError:
            return default

    return {"memory_mb": number("EXPLAIN_WORKER_MEMORY_MB", 8192), "timeout_s": number("EXPLAIN_WORKER_TIMEOUT", 1800),
            "idle_s": number("EXPLAIN_WORKER_IDLE", 3600)}


class InProcess:
    """The same interface as :class:`Worker` for a model run in this process (the bundled
    examples, and models passed from Python)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def call(self, fn: Callable[..., Any], *args: Any, progress: Callable[[float], None] | None = None,
             **kwargs: Any) -> Any:
        return fn(self.model, *args, progress=progress or _ignore, **kwargs)

    def close(self) -> None:
        self.model = None

    @property
    def alive(self) -> bool:
        return self.model is not None


def _ignore(_fraction: float) -> None:
    return None


class Worker:
    """A process holding one model. ``load(*args, **kwargs)`` runs in the worker and
    returns the model; ``describe(model)`` (run there too) says what the caller learns
    about it, returned by :meth:`start`."""

    def __init__(self, load: Callable[..., Any], *args: Any, describe: Callable[[Any], Any],
                 memory_mb: float | None = None, timeout_s: float | None = None, idle_s: float | None = None,
                 **kwargs: Any) -> None:
        limits = settings()
        self.memory_mb = memory_mb if memory_mb is not None else limits["memory_mb"]
        self.timeout_s = timeout_s if timeout_s is not None else limits["timeout_s"]
        self.idle_s = idle_s if idle_s is not None else limits["idle_s"]
        self._load = (load, args, kwargs, describe)
        self._process: Any = None
        self._conn: Any = None
        self._lock = threading.Lock()  # one call at a time per worker
        self.restarts = -1

    # --- life cycle ----------------------------------------------------------------
    def start(self) -> Any:
        """Start the process and load the model; returns ``describe(model)``.

        Raises:
            ExplainError: the model could not be loaded (the worker's own error), or the
                worker died while loading it.
        """
        self.close()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, self.memory_mb, self.idle_s, os.getpid()),
                                  daemon=True, name=WORKER_NAME)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        self.restarts += 1
        weakref.finalize(self, _stop, process, parent)
        load, args, kwargs, describe = self._load
        try:
            return self._request(("load", load, args, kwargs, describe), None, _START_TIMEOUT + self.timeout_s)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the process (the model goes with it)."""
        if self._process is not None:
            _stop(self._process, self._conn)
        self._process = self._conn = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    # --- calls -------------------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any, progress: Callable[[float], None] | None = None,
             **kwargs: Any) -> Any:
        """``fn(model, *args, progress=..., **kwargs)`` in the worker; its result here.

        Progress reports from the worker are passed to ``progress``. An exception raised
        in this process while waiting (a cancel) interrupts the worker's computation.

        Raises:
            ExplainError: what ``fn`` raised (same class where it is one of explain's).
            WorkerError: the worker died or ran past the time limit; the next call
                starts a new one.
            RuntimeError: ``fn`` failed with another error (a bug); the message names it.
        """
        with self._lock:
            if not self.alive:
                self.start()  # idle exit, or a crash on the previous call: load again
            return self._request(("call", fn, args, kwargs, None), progress, self.timeout_s)

    def _request(self, message: tuple[Any, ...], progress: Callable[[float], None] | None, limit: float) -> Any:
        conn, process = self._conn, self._process
        conn.send(message)
        deadline = time.monotonic() + limit
        try:
            while True:
                if conn.poll(0.05):
                    try:
                        reply = conn.recv()
                    except (EOFError, OSError):
                        raise self._died() from None
                    kind = reply[0]
                    if kind == "progress":
                        if progress is not None:
                            progress(reply[1])
                        continue
                    return _unpack(reply)
                if not process.is_alive():
                    raise self._died()
                if time.monotonic() > deadline:
                    self.close()
                    raise WorkerError(
                        f"The computation ran past the time limit of {limit:.0f} s and was stopped. Try fewer "
                        "rows or a cheaper method (the limit is EXPLAIN_WORKER_TIMEOUT)."
                    )
        except (ExplainError, RuntimeError):  # its own answers (WorkerError is one), not a cancel
            raise
        except BaseException:  # the caller stopped waiting (a cancel): interrupt the worker
            self._interrupt()
            raise

    def _interrupt(self) -> None:
        process, conn = self._process, self._conn
        if process is None or not process.is_alive():
            return
        with contextlib.suppress(OSError):
            os.kill(process.pid, signal.SIGINT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # drain until the interrupted call answers
            if conn.poll(0.05):
                try:
                    if conn.recv()[0] != "progress":
                        return
                except (EOFError, OSError):
                    break
            elif not process.is_alive():
                break
        self.close()  # it did not answer: stop it; the next call loads the model again

    def _died(self) -> WorkerError:
        process = self._process
        process.join(timeout=5)
        code = process.exitcode
        self.close()
        if code is not None and code < 0:
            how = f"was killed by signal {signal.Signals(-code).name}"
        else:
            how = f"exited with code {code}"
        hint = (" It most likely ran out of memory (the limit is EXPLAIN_WORKER_MEMORY_MB "
                f"= {self.memory_mb:.0f} MB)" if code in (-signal.SIGKILL, -signal.SIGSEGV, 1) else "")
        return WorkerError(
            f"The process running the model {how}.{hint}. Your data and results are kept, and the model "
            "is loaded again on the next run; try fewer rows or a cheaper method."
        )


def _unpack(reply: tuple[Any, ...]) -> Any:
    kind = reply[0]
    if kind == "ok":
        return reply[1]
    if kind == "cancelled":
        raise ExplainError("The computation was cancelled.")
    _, name, message, is_explain = reply
    if is_explain:
        cls = getattr(errors, name, ExplainError)
        raise cls(message) if isinstance(cls, type) and issubclass(cls, ExplainError) else ExplainError(message)
    raise RuntimeError(f"{name}: {message}")


def _stop(process: Any, conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()
    if process.is_alive():
        process.kill()
    process.join(timeout=5)


# --- the worker's side ----------------------------------------------------------------------
def _serve(conn: Any, memory_mb: float, idle_s: float, parent: int) -> None:
    """The worker's loop: load the model, then run calls on it until told to stop."""
    _limit_memory(memory_mb)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    last = [time.monotonic()]
    threading.Thread(target=_watch, args=(parent, last, idle_s), daemon=True).start()
    model = None
    while True:
        try:
            message = conn.recv()
        except KeyboardInterrupt:  # an interrupt that arrived between calls
            continue
        except (EOFError, OSError):
            return
        kind, fn, args, kwargs, describe = message
        last[0] = float("inf")  # busy: never idle
        try:
            if kind == "load":
                model = fn(*args, **kwargs)
                reply: tuple[Any, ...] = ("ok", describe(model))
            else:
                reply = ("ok", fn(model, *args, progress=lambda f: conn.send(("progress", float(f))), **kwargs))
        except KeyboardInterrupt:
            reply = ("cancelled",)
        except ExplainError as err:
            reply = ("error", type(err).__name__, str(err), True)
        except MemoryError:
            reply = ("error", "MemoryError", f"out of memory (the limit is {memory_mb:.0f} MB): try fewer rows", True)
        except Exception as err:  # a bug: the caller shows it as one
            reply = ("error", type(err).__name__, str(err), False)
        last[0] = time.monotonic()
        try:
            conn.send(reply)
        except KeyboardInterrupt:
            conn.send(("cancelled",))
        except Exception as err:  # the result would not pickle
            conn.send(("error", type(err).__name__, f"could not send the result back: {err}", False))


def _limit_memory(memory_mb: float) -> None:
    """Cap the address space at what the process has now plus ``memory_mb``."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
        now = pages * os.sysconf("SC_PAGE_SIZE")
        cap = int(now + memory_mb * 1024 * 1024)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, OSError, ValueError):  # not Linux: no cap
        pass


def _watch(parent: int, last: list[float], idle_s: float) -> None:
    """Exit when the server is gone, or after ``idle_s`` without a call (``last`` holds
    the end of the last call, or infinity while one runs)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent or time.monotonic() - last[0] > idle_s:
            os._exit(0)
