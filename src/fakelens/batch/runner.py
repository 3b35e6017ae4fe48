"""The Ray side: a local cluster or a given address, one ``Analyser`` actor per worker
(detectors loaded once each), files handed out one at a time to idle actors (one task
in flight per actor, so a crash is pinned on the file that caused it) while the lazy
listing is read only as fast as actors free up, and each result written as it comes."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

from fakelens.batch.progress import Display, Tally
from fakelens.batch.records import error_doc
from fakelens.batch.sources import Item
from fakelens.batch.worker import Analyse, Analyser

MAX_RETRIES = 2  # a file whose worker died is tried again this many times, then an error


def start_ray(address: str | None, workers: int | None, verbose: bool = False) -> int:
    """Connect to ``address`` (or ``RAY_ADDRESS``), else start a local cluster with
    ``workers`` CPUs (default: this machine's cores). Returns the workers to run."""
    import ray

    address = address or os.environ.get("RAY_ADDRESS") or None
    if not ray.is_initialized():
        common = dict(include_dashboard=False, log_to_driver=verbose,
                      logging_level=logging.INFO if verbose else logging.WARNING)
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **common)
    if workers:
        return workers
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_pool(items: Iterator[Item], sink, tally: Tally, display: Display, *, workers: int,
             options: dict, analyse: Analyse | None = None) -> None:
    """Analyse ``items`` on ``workers`` actors; every item ends as one line in ``sink``."""
    import ray
    from ray.exceptions import RayActorError

    actor_cls = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(Analyser)
    actors = [actor_cls.remote(options, analyse) for _ in range(workers)]
    idle = list(range(workers))
    running: dict = {}  # ObjectRef -> (item, actor index, attempt)
    restarting: dict = {}  # ObjectRef of a readiness probe -> actor index
    retry: list[tuple[Item, int]] = []
    exhausted = False

    def finish(doc: dict) -> None:
        sink.write(doc)
        tally.add(doc)
        display.update(doc)

    def probe(a: int) -> None:
        """Use actor ``a`` again once Ray has restarted it (a task sent to a restarting
        actor fails at once with ActorUnavailableError, without running)."""
        restarting[actors[a].__ray_ready__.remote()] = a

    while True:
        while idle and (retry or not exhausted):
            if retry:
                item, attempt = retry.pop()
            else:
                item = next(items, None)
                if item is None:
                    exhausted = True
                    break
                attempt = 0
            a = idle.pop()
            running[actors[a].run.remote(item)] = (item, a, attempt)
        if not running and not restarting:
            break
        ready, _ = ray.wait(list(running) + list(restarting), num_returns=1, timeout=1.0)
        if not ready:
            display.update()
            continue
        for ref in ready:
            if ref in restarting:
                a = restarting.pop(ref)
                try:
                    ray.get(ref)
                    idle.append(a)
                except RayActorError:
                    time.sleep(0.2)  # still restarting: look again shortly
                    probe(a)
                continue
            item, a, attempt = running.pop(ref)
            try:
                doc = ray.get(ref)
            except RayActorError as exc:  # the worker process died (crash, node lost)
                probe(a)  # never hand the retry to an actor that is still restarting
                if attempt < MAX_RETRIES:
                    retry.append((item, attempt + 1))
                    continue
                doc = error_doc(item, "WorkerDied", f"the worker analysing it died "
                                f"{attempt + 1} times: {type(exc).__name__}")
            except Exception as exc:  # noqa: BLE001 - never lose a file
                idle.append(a)
                doc = error_doc(item, type(exc).__name__, str(exc))
            else:
                idle.append(a)
            finish(doc)
    for actor in actors:
        ray.kill(actor)
