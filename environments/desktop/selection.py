"""Owning the X11 CLIPBOARD ourselves until the application that pastes has read the text.

Handing the text to ``xclip -in`` and restoring the old clipboard a fixed time after ctrl+v lost the whole text
about half the time under load: the application asked for the clipboard after it had been restored. Here the agent
is the selection owner (ICCCM section 2) on its own connection: it answers every request itself, so it knows when
the application the paste keys went to has received the text, and only then gives the clipboard back.

The reader counted is the client that has the input focus (an X client's window ids share its resource id base);
a clipboard manager that copies the new text meanwhile is served too but does not end the wait (one that takes
the ownership over ends it, unconfirmed: it then serves the paste itself). When the focus
cannot be told (PointerRoot, no focus) any reader counts. Texts up to the server's request size are served at once
(262,140 bytes on a stock server); longer ones are refused, since the INCR protocol is not implemented.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from typing import Any

from glmv_agent.errors import ConfigError, DeviceDisconnected, StepError

from .x11 import open_display

log = logging.getLogger(__name__)
UTF8_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "TEXT")
LATIN1_TARGETS = ("STRING", "text/plain")
HEADER_BYTES = 64  # ChangeProperty's fixed part, with room to spare


class SelectionServer:
    """Serves one text on CLIPBOARD from a window of its own. Use as a context manager (closing gives it up)."""

    def __init__(self, display_name: str | None = None) -> None:
        try:
            self.d: Any = open_display(display_name)
        except ConfigError as exc:  # it was reachable when the environment started: the server went away
            raise DeviceDisconnected(f"display disconnected: {exc}") from None
        from Xlib import X, Xatom

        self.X, self.Xatom = X, Xatom
        self.window = self.d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent,
                                                         event_mask=X.PropertyChangeMask)
        self.clipboard = self.atom("CLIPBOARD")
        self.data = b""
        self.owned_at = 0
        self.focus_base: int | None = None
        self.readers: list[str] = []  # who received the text (for the log)
        self.taken = False  # another client became the owner before the paste was read

    def atom(self, name: str) -> int:
        return int(self.d.intern_atom(name))

    def __enter__(self) -> SelectionServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closing the connection also ends our ownership (the clipboard is then empty unless someone took it).

        A round trip first: the X server may drop the requests it has not read yet when a client hangs up, and
        the last ones are the answer to the paste (property + SelectionNotify). Closing right after them lost the
        paste into a Tk entry in 3 of 4 runs of 20 pastes under load (tests/test_desktop_typing.py); with the
        round trip, none.
        """
        with contextlib.suppress(Exception):
            self.d.sync()
        with contextlib.suppress(Exception):
            self.d.close()

    # --- owning ----------------------------------------------------------------------------------------------

    def own(self, text: str) -> None:
        """Become the CLIPBOARD owner serving ``text``; StepError when the text is too long or ownership fails."""
        data = text.encode("utf-8")
        limit = self.d.display.info.max_request_length * 4 - HEADER_BYTES
        if len(data) > limit:
            raise StepError(f"the text is too long to paste at once ({len(data)} bytes, at most {limit}); "
                            "type it in parts")
        self.data = data
        self.owned_at = self._server_time()
        self.window.set_selection_owner(self.clipboard, self.owned_at)
        if self.d.get_selection_owner(self.clipboard) != self.window:
            raise StepError("could not take the clipboard to paste the text")
        self.focus_base = self._focus_base()

    def _server_time(self) -> int:
        """A real server timestamp (ICCCM: never CurrentTime): the time of a PropertyNotify we cause ourselves."""
        self.window.change_property(self.atom("GLMV_TIME"), self.Xatom.STRING, 8, b"", self.X.PropModeAppend)
        deadline = time.monotonic() + 5.0
        while (event := self._next_event(deadline)) is not None:
            if event.type == self.X.PropertyNotify and event.window == self.window:
                return int(event.time)
            self._handle(event)
        raise StepError("the X server did not answer while taking the clipboard")

    def _focus_base(self) -> int | None:
        focus = self.d.get_input_focus().focus
        focus_id = focus if isinstance(focus, int) else focus.id
        if focus_id in (self.X.NONE, self.X.PointerRoot) or focus_id == self.d.screen().root.id:
            return None
        return focus_id & ~self.d.display.info.resource_id_mask

    # --- serving ---------------------------------------------------------------------------------------------

    def wait_until_read(self, timeout_s: float) -> None:
        """Serve requests until the focused application has received the text; StepError after ``timeout_s``.

        When only other clients read it (the focus could not be matched), the last of them counts at the timeout.
        When another client takes the clipboard first (a clipboard manager that re-owns every new text), the paste
        is served by that client and cannot be confirmed: ``taken`` is set and the wait ends.
        """
        deadline = time.monotonic() + timeout_s
        while (event := self._next_event(deadline)) is not None:
            if event.type == self.X.SelectionClear and event.atom == self.clipboard:
                self.taken = True
                log.warning("another program took the clipboard before the paste was read; the paste cannot be "
                            "confirmed and the old clipboard text is not put back")
                return
            if self._handle(event) and self._is_focus_client(event.requestor.id):
                return
        if self.readers:
            log.info("the focused window did not read the pasted text; %s did", ", ".join(self.readers))
            return
        raise StepError(f"nothing read the pasted text within {timeout_s:g} s: the paste keys reached no text "
                        "field (click one first)")

    def wait_until_taken(self, timeout_s: float) -> bool:
        """Serve requests until another client owns CLIPBOARD (the restored clipboard); False after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while (event := self._next_event(deadline)) is not None:
            if event.type == self.X.SelectionClear and event.atom == self.clipboard:
                return True
            self._handle(event)
        return False

    def _is_focus_client(self, window_id: int) -> bool:
        if self.focus_base is None:
            return True
        return window_id & ~self.d.display.info.resource_id_mask == self.focus_base

    def _next_event(self, deadline: float) -> Any | None:
        while not self.d.pending_events():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            select.select([self.d], [], [], remaining)
        return self.d.next_event()

    def _handle(self, event: Any) -> bool:
        """Answer a SelectionRequest; True when it delivered the text."""
        if event.type != self.X.SelectionRequest or event.selection != self.clipboard:
            return False
        target = self.d.get_atom_name(event.target)
        prop = event.property or event.target  # obsolete requestors name no property
        kind, fmt, value = self._answer(target)
        if value is None:
            prop = self.X.NONE
        else:
            event.requestor.change_property(prop, kind, fmt, value, onerror=self._ignore)
        self._notify(event, prop)
        delivered = value is not None and target in UTF8_TARGETS + LATIN1_TARGETS
        if delivered:
            self.readers.append(f"window {event.requestor.id:#x} ({target})")
        return delivered

    def _answer(self, target: str) -> tuple[int, int, Any]:
        """(type, format, value) for ``target``; value None refuses it."""
        if target == "TARGETS":
            names = ("TARGETS", "TIMESTAMP", *UTF8_TARGETS, *LATIN1_TARGETS)
            return self.Xatom.ATOM, 32, [self.atom(name) for name in names]
        if target == "TIMESTAMP":
            return self.Xatom.INTEGER, 32, [self.owned_at]
        if target in UTF8_TARGETS:
            return self.atom("UTF8_STRING"), 8, self.data
        if target in LATIN1_TARGETS:
            try:
                return self.Xatom.STRING, 8, self.data.decode("utf-8").encode("latin-1")
            except UnicodeEncodeError:
                return self.Xatom.STRING, 8, None  # not Latin-1: the reader asks for UTF8_STRING instead
        return self.Xatom.STRING, 8, None

    def _notify(self, request: Any, prop: int) -> None:
        from Xlib.protocol import event

        notify = event.SelectionNotify(time=request.time, requestor=request.requestor, selection=request.selection,
                                       target=request.target, property=prop)
        request.requestor.send_event(notify, event_mask=0, onerror=self._ignore)
        self.d.flush()

    @staticmethod
    def _ignore(*_: object) -> None:
        """A requestor window that vanished meanwhile (BadWindow) is not our problem."""


__all__ = ["SelectionServer"]
