"""The episode's history items and what they keep in memory: only the images the protocol will send again.

A step's full screenshot stays on its history item while that step is the latest (the next observation is compared
with it to tell the model when an action changed nothing), then it is dropped, except on a page AutoGLM noted
(``Note``), which a later ``Call_API`` sends again. What a profile sends again in later
prompts is kept apart as ``thumbnail`` (GLM desktop: half-size copies of the last four steps; every other profile
sends no earlier screenshot and keeps none). Earlier screenshots stay in the run folder, where the report reads them.
"""

from __future__ import annotations

from typing import Any

from .types import Decision, HistoryItem, Observation


def history_item(profile: Any, decision: Decision, observation: Observation) -> HistoryItem:
    """The history item of a step that acted on ``observation``; the thumbnail is the profile's ``history_image``
    of the screenshot (None for profiles without one)."""
    make = getattr(profile, "history_image", None)
    return HistoryItem(
        decision=decision, raw=decision.raw, screenshot=observation.screenshot, app=observation.app,
        thumbnail=make(observation.screenshot) if make is not None else None,
    )


def _noted(item: HistoryItem) -> bool:
    return item.decision is not None and item.decision.action.type == "Note" and not item.error


def remember(history: list[HistoryItem], item: HistoryItem, profile: Any) -> None:
    """Append ``item``: earlier items drop their full screenshot, and all but the profile's ``history_images``
    latest items drop their thumbnail, so an episode holds at most one screenshot and N thumbnails however long."""
    for earlier in history:
        if not _noted(earlier):  # AutoGLM's Note keeps its page for a later Call_API: that image is sent again
            earlier.screenshot = None
    history.append(item)
    keep = int(getattr(profile, "history_images", 0))
    for earlier in history[: max(0, len(history) - keep)]:
        earlier.thumbnail = None
