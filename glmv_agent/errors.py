"""Error tree of glmv-agent.

GlmvError
 +-- ModelOutputError          the model's text is unusable; the loop feeds it back and re-asks
 |    +-- ParseError            no valid action could be read from the text
 |    |    +-- ThinkingCut       the model stopped while thinking: nothing it wrote is executed
 |    |    +-- UnfinishedAction  the text ends inside the action (truncated): nothing after its start is another one
 |    +-- ActionNotSupported    a valid action this environment cannot perform
 +-- BackendError              the model endpoint failed (after retries)
 |    +-- BackendTimeout
 +-- DeviceError               the phone / browser / screen failed; the step records it
 |    +-- DeviceDisconnected    the device went away and could not be reconnected
 +-- StepError                 one action failed on the device but the episode can continue
 +-- ConfigError               bad user configuration (unknown profile, missing option)
 +-- RecordError               the run folder cannot be written (full disk, read-only): the run ends, what was
 |                             written so far is kept
 +-- UserAbort                 the person stopped the run (Ctrl-C, fail-safe, 'stop' at a prompt)
"""

from __future__ import annotations


class GlmvError(Exception):
    """Base of every error raised by glmv-agent."""


class ModelOutputError(GlmvError):
    """The model produced text that cannot be executed."""


class ParseError(ModelOutputError):
    """No valid action could be read from the model's text."""


class ThinkingCut(ParseError):
    """The reply ended inside the thinking (``<think>`` never closed, or the server stopped on length there).

    Nothing written in unfinished thinking is an action; a thinking-budget pass can catch this kind and ask for the
    answer, otherwise the loop re-asks like for any ParseError.
    """


class UnfinishedAction(ParseError):
    """The text ends (or runs past a reader's limit) inside the action being read: an unclosed quote, bracket,
    parenthesis or ``<content>``. Everything after the action's start belongs to it, so no action written later in
    the text (inside its unfinished argument) may be executed in its place.
    """


class ActionNotSupported(ModelOutputError):
    """The action is valid but the current environment cannot perform it."""


class BackendError(GlmvError):
    """The model backend failed."""


class BackendTimeout(BackendError):
    """The model backend did not answer in time."""


class DeviceError(GlmvError):
    """The device (phone, browser, screen) failed."""


class DeviceDisconnected(DeviceError):
    """The device is gone and could not be reconnected."""


class StepError(GlmvError):
    """One action failed on the device; the episode may continue and the model is told."""


class ConfigError(GlmvError):
    """Invalid configuration."""


class RecordError(GlmvError):
    """The run folder could not be written (full disk, read-only file system); the message names the folder."""


class UserAbort(GlmvError):
    """The person stopped the run."""
