"""Batch runs across machines on Ray (``glmv-agent batch --ray [ADDRESS]``): one actor per device slot or browser.

The driver (the machine running the command) keeps everything a local batch keeps: the task list after ``--shard``,
``results.jsonl`` (appended as episodes finish, so a rerun resumes), ``summary.json`` and ``episodes/<id>/``. Each
lane of the local runner becomes a Ray actor that runs one episode at a time: for a phone, on the node that has it;
for a browser or an in-memory screen, wherever the cluster has room. An actor builds the episode's parts itself
(the builder travels to it), runs and judges the episode in a scratch folder on its node, and sends the run folder
back as a tar archive, which the driver unpacks into ``episodes/<id>/``.

Placement: a node offers a phone by declaring the custom resource ``glmv-device:<serial>`` (``ray start
--resources='{"glmv-device:emulator-5554": 1}'``) and browsers by ``glmv-browser`` (how many at once). When the
cluster declares none of them, actors are spread over the nodes (phones then must be reachable from every node,
e.g. ``adb connect`` addresses). See docs/batch.md for a cluster recipe.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agent import AgentConfig
from ..errors import ConfigError
from .runner import BatchRunner, EpisodeOutcome, PartsBuilder, set_aside
from .tasks import BatchTask, folder_name
from .verdicts import Verdict

log = logging.getLogger(__name__)
DEVICE_RESOURCE = "glmv-device:"  # + serial: a node that has this phone
BROWSER_RESOURCE = "glmv-browser"  # browsers a node runs at once


def import_ray() -> Any:
    """The ray module; ConfigError naming the extra when it is not installed."""
    try:
        import ray
    except ModuleNotFoundError:
        raise ConfigError("--ray needs Ray: pip install 'glmv-agent[ray]'") from None
    return ray


def connect(address: str) -> bool:
    """Connect this process to Ray: ``local`` starts an instance on this machine, anything else is an address
    (``auto``: the cluster this node belongs to; ``ray://head:10001`` through Ray Client). True when this call
    connected (the caller disconnects), False when the process already was. Raises ConfigError."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    try:
        if address == "local":
            ray.init(address="local", include_dashboard=False, num_cpus=os.cpu_count() or 2, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"cannot connect to Ray at {address!r}: {str(exc).splitlines()[0]}") from None
    return True


class EpisodeActor:
    """Runs the episodes of one lane (a phone, or one browser at a time) on the node Ray placed it on."""

    def __init__(self, build: PartsBuilder, slot: str | None) -> None:
        self.slot = slot
        self.scratch = Path(tempfile.mkdtemp(prefix="glmv-ray-"))
        self.runner = BatchRunner(build, self.scratch, concurrency=1)
        self.limit: asyncio.Semaphore | None = None

    async def run(self, task: BatchTask, config: AgentConfig) -> tuple[EpisodeOutcome, bytes | None]:
        """One episode and its verdict; the run folder comes back as a tar archive (None when none was made)."""
        self.limit = self.limit or asyncio.Semaphore(1)
        outcome = await self.runner.episode(task, self.slot, self.limit, config)
        run_dir = self.scratch / "episodes" / folder_name(task.id)
        if not run_dir.is_dir():
            return outcome, None
        archive = pack(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
        return outcome, archive


def pack(folder: Path) -> bytes:
    """``folder``'s files as an uncompressed tar archive (its screenshots are compressed already)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(folder, arcname=".")
    return buffer.getvalue()


def unpack(data: bytes, folder: Path) -> None:
    """Extract an archive made by :func:`pack` into ``folder``: regular files and folders only, never outside it
    (ValueError otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
        members = archive.getmembers()
        for member in members:
            parts = Path(member.name).parts
            if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in parts:
                raise ValueError(f"unexpected entry in a run folder archive: {member.name!r}")
        archive.extractall(folder, members=members)  # every member checked above


@dataclass
class Lane:
    slot: str | None
    actor: Any


class RayBatchRunner(BatchRunner):
    """:class:`BatchRunner` whose episodes run in Ray actors (``address`` as for :func:`connect`); the results file,
    resume, shards, verdicts and line makers are the local runner's. Model calls in flight are at most one per
    actor, so ``model_limit`` below ``concurrency`` is refused."""

    def __init__(self, build: PartsBuilder, out_dir: Path, concurrency: int = 4, address: str = "local",
                 **options: Any) -> None:
        super().__init__(build, out_dir, concurrency, **options)
        if self.model_limit < self.concurrency:
            raise ConfigError("--model-limit below --concurrency is not supported with --ray "
                              "(each actor runs one episode, so model calls in flight = --concurrency)")
        self.address = address
        self._connected = False
        self._lanes: list[Lane] = []

    async def _open_lanes(self) -> list[Any]:
        ray = import_ray()
        try:  # what every actor will unpickle: fail here, once, with the reason
            ray.cloudpickle.loads(ray.cloudpickle.dumps(self.build))
        except Exception as exc:  # noqa: BLE001 - any pickling error
            reason = f"{type(exc).__name__}: {exc}"
            raise ConfigError(f"the episode builder cannot be sent to Ray workers: {reason}") from None
        self._connected = connect(self.address)
        offered = set(ray.cluster_resources())
        self._lanes = [Lane(slot, self._actor(ray, slot, offered)) for slot in await super()._open_lanes()]
        return list(self._lanes)

    def _actor(self, ray: Any, slot: str | None, offered: set[str]) -> Any:
        wanted = f"{DEVICE_RESOURCE}{slot}" if slot else BROWSER_RESOURCE
        placement: dict[str, Any] = {"resources": {wanted: 1}} if wanted in offered else {"scheduling_strategy":
                                                                                          "SPREAD"}
        remote = ray.remote(EpisodeActor).options(num_cpus=0, max_concurrency=1, **placement)
        return remote.remote(self.build, slot)

    async def _run_in(self, lane: Any, task: BatchTask, limit: asyncio.Semaphore, base: AgentConfig) -> EpisodeOutcome:
        ray = import_ray()
        try:
            outcome, archive = await lane.actor.run.remote(task, base)
        except ray.exceptions.RayError as exc:
            log.warning("task %s: the Ray worker failed: %s", task.id, exc)
            if isinstance(exc, ray.exceptions.RayActorError):  # the lane's process died: give it a fresh one
                lane.actor = self._actor(ray, lane.slot, set(ray.cluster_resources()))
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            error = f"{type(exc).__name__}: {lines[0] if lines else ''}" + (f" ({lines[-1]})" if len(lines) > 1 else "")
            verdict = Verdict(detail="the episode's Ray worker failed, so nothing was judged")
            return EpisodeOutcome(id=task.id, status="error", success=False, error=error, verdict=verdict,
                                  slot=lane.slot)
        if archive is not None:
            run_dir = self.out_dir / "episodes" / folder_name(task.id)
            set_aside(run_dir)
            unpack(archive, run_dir)
            outcome.run_dir = str(run_dir)
        return outcome

    async def _close_lanes(self) -> None:
        """End the actors (their phones and browsers are free again); disconnect when this runner connected."""
        ray = import_ray()
        lanes, self._lanes = self._lanes, []
        if not ray.is_initialized():
            return
        for lane in lanes:
            ray.kill(lane.actor)
        if self._connected:
            ray.shutdown()
            self._connected = False
