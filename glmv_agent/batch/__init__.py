"""Batch runs: many episodes at once (asyncio, device slots), resumable and shardable, each judged by a verdict
apart from the model's status (``glmv-agent batch``)."""

from .runner import BatchRunner, BatchSummary, EpisodeOutcome, EpisodeParts, finished_ids, read_results, summarize
from .tasks import BatchTask, SuccessCheck, load_tasks, shard
from .verdicts import Verdict

__all__ = [
    "BatchRunner", "BatchSummary", "BatchTask", "EpisodeOutcome", "EpisodeParts", "SuccessCheck", "Verdict",
    "finished_ids", "load_tasks", "read_results", "shard", "summarize",
]
