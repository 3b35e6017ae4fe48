"""The Ray side: a local cluster or a given address, one ``Analyser`` actor per worker
(one per CPU, or one per GPU with ``--gpus``; detectors loaded once each), files handed
out one at a time to idle actors (one task in flight per actor, so a crash is pinned on
the file that caused it) while the lazy listing is read only as fast as actors free up,
and each result written as it comes."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from fakelens.batch.progress import Display, Tally
from fakelens.batch.records import error_doc
from fakelens.batch.sources import Item
from fakelens.batch.worker import Analyse, Analyser
from fakelens.errors import BatchError

log = logging.getLogger(__name__)

MAX_RETRIES = 2  # a file whose worker died is tried again this many times, then an error
GPU_START_S = 300.0  # GPU workers not all started by then (GPUs held by other jobs): refused


@dataclass(frozen=True)
class PoolPlan:
    """The actor pool of a run: how many actors, and the ``ray.remote`` options of each."""

    actors: int
    gpu: bool = False
    ray_options: dict = field(default_factory=dict)


def plan_pool(workers: int | None, gpus: int | None, resources: dict,
              where: str = "the Ray cluster") -> PoolPlan:
    """One actor per CPU of ``resources`` (``ray.cluster_resources()``) or ``workers``;
    with ``gpus``, one actor per GPU (1 CPU and 1 GPU each), refused at once
    (``BatchError``) when the cluster has fewer GPUs: Ray would wait for them for ever."""
    options = {"num_cpus": 1, "max_restarts": -1, "max_task_retries": 0}
    if not gpus:
        return PoolPlan(workers or max(1, int(resources.get("CPU", 1))), False, options)
    if workers and workers != gpus:
        raise BatchError(f"--workers {workers} with --gpus {gpus}: --gpus N runs N workers, "
                         "one per GPU; give one of them")
    have = float(resources.get("GPU", 0))
    if have < gpus:
        raise BatchError(f"--gpus {gpus}: {where} has {have:g} GPU{'' if have == 1 else 's'}, "
                         f"fewer than the {gpus} asked for (one worker per GPU). Connect to a "
                         "cluster with GPU nodes (--address or RAY_ADDRESS), ask for fewer, or "
                         "leave --gpus out to run on the CPUs")
    return PoolPlan(gpus, True, options | {"num_gpus": 1})


def start_ray(address: str | None, workers: int | None, gpus: int | None = None,
              verbose: bool = False) -> PoolPlan:
    """Connect to ``address`` (or ``RAY_ADDRESS``), else start a local cluster with
    ``workers`` CPUs (default: this machine's cores; its GPUs as Ray finds them). Returns
    the pool to run (``plan_pool``)."""
    import ray

    address = address or os.environ.get("RAY_ADDRESS") or None
    if not ray.is_initialized():
        common = dict(include_dashboard=False, log_to_driver=verbose,
                      logging_level=logging.INFO if verbose else logging.WARNING)
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **common)
    where = f"the Ray cluster at {address}" if address else "the Ray cluster"
    return plan_pool(workers, gpus, ray.cluster_resources(), where)


def _check_gpu_workers(actors: list, started_s: float = GPU_START_S) -> None:
    """Wait (at most ``started_s``) for the GPU actors to start and load their detectors;
    refuse when they do not (the GPUs are there but held by other work), and warn once
    when the detectors could not go on CUDA."""
    import ray

    refs = [a.device.remote() for a in actors]
    ready, waiting = ray.wait(refs, num_returns=len(refs), timeout=started_s)
    if waiting:
        for actor in actors:
            ray.kill(actor)
        free = ray.available_resources().get("GPU", 0)
        raise BatchError(f"{len(waiting)} of {len(actors)} GPU workers did not start in "
                         f"{started_s:.0f} s ({free:g} GPUs free in the cluster now: other "
                         "work holds them); try again later or ask for fewer with --gpus")
    warnings = set()
    for ref in ready:
        try:
            warnings.add(ray.get(ref)["warning"])
        except Exception:  # noqa: BLE001 - a worker that died starting: the pool retries
            continue
    for text in sorted(w for w in warnings if w):
        log.warning("--gpus: %s", text)


def run_pool(items: Iterator[Item], sink, tally: Tally, display: Display, *, plan: PoolPlan,
             options: dict, analyse: Analyse | None = None) -> None:
    """Analyse ``items`` on the actors of ``plan``; every item ends as one line in
    ``sink``."""
    import ray
    from ray.exceptions import RayActorError

    actor_cls = ray.remote(**plan.ray_options)(Analyser)
    actors = [actor_cls.remote(options, analyse, plan.gpu) for _ in range(plan.actors)]
    if plan.gpu:
        _check_gpu_workers(actors)
    idle = list(range(plan.actors))
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
