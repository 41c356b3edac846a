"""What sets one simulated phone apart from the plain one (see screen.Phone.set_traits)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PhoneTraits(BaseModel):
    """A second built-in panel (a foldable's cover screen, in use while ``folded``) and apps that open slowly
    (their opening animation runs ``launch_delay_s`` before the app draws its first frame)."""

    model_config = ConfigDict(frozen=True)
    second_display: tuple[int, int] | None = None
    folded: bool = False
    launch_delay_s: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _can_fold(self) -> PhoneTraits:
        if self.folded and self.second_display is None:
            raise ValueError("only a phone with a second display can start folded")
        return self
