"""What the step-level calls return or raise: :class:`Box`, :class:`ActFailed` and :class:`NotFound`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ..errors import GlmvError

if TYPE_CHECKING:
    from ..agent import EpisodeResult


class Box(BaseModel):
    """A rectangle on the screen: top-left corner ``x``, ``y`` and its ``width`` and ``height``.

    Units depend on the agent: CSS pixels of the viewport for PageAgent / AsyncPageAgent (what ``page.mouse``
    takes), the phone's input pixels for PhoneAgent, logical screen coordinates for DesktopAgent (what pyautogui
    takes; the monitor's origin included).
    """

    model_config = ConfigDict(frozen=True)
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> tuple[float, float]:
        """The middle of the box, in the same units."""
        return self.x + self.width / 2, self.y + self.height / 2

    centre = center


class ActFailed(GlmvError):
    """``act(...)`` ended without completing; ``result`` is the call's EpisodeResult (status, error, steps)."""

    def __init__(self, instruction: str, result: EpisodeResult) -> None:
        reason = f": {result.error}" if result.error else ""
        super().__init__(f"act({instruction!r}) ended {result.status}{reason} (run folder {result.run_dir})")
        self.result = result


class NotFound(GlmvError, LookupError):
    """``locate(...)``: the model answered that the described element is not on the screen."""


__all__ = ["ActFailed", "Box", "NotFound"]
