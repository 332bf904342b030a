# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: notice that the run was cancelled, so that no new write starts after it.

A module process is not always told when ansible-playbook stops: Ctrl-C reaches it only when it shares
the terminal's process group, and an AWX cancel or a killed controller may send it nothing. So it
listens to SIGINT, SIGTERM and SIGHUP, and also watches its standard output: the pipe to the Ansible
worker loses its reader when that worker is gone (poll reports POLLERR or POLLHUP on the write end).

This file is private to ovhcloud.exchange; it may change at any time without notice.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import select
import signal
import stat
import sys
import threading

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# How often the watcher looks at the pipe and the parent: well under the 2 s promised to users.
POLL_SECONDS = 0.25


class Cancelled(Exception):
    """The run was cancelled: nothing more is written; str() says why."""


class Cancellation:
    """A flag set once the run must stop writing; ``reason`` says why (for the module's message)."""

    def __init__(self):
        self._event = threading.Event()
        self.reason = None
        self._watcher = None

    def cancel(self, reason):
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self):
        return self._event.is_set()

    def wait(self, timeout):
        """Sleep up to ``timeout`` seconds; True as soon as the run is cancelled."""
        return self._event.wait(timeout)

    def check(self, doing="continue"):
        """Raise Cancelled if the run was cancelled."""
        if self._event.is_set():
            raise Cancelled("the run was cancelled ({0}): did not {1}; nothing was written after the cancel, and "
                            "a rerun converges from what the API holds".format(self.reason, doing))

    def watch(self, stream=None):
        """Listen to the stop signals (main thread only) and watch the output pipe and the parent process."""
        if threading.current_thread() is threading.main_thread():
            for number in SIGNALS:
                signal.signal(number, self._on_signal)
        stream = sys.stdout if stream is None else stream
        descriptor = _pipe_descriptor(stream)
        parent = os.getppid()
        self._watcher = threading.Thread(target=self._watch, args=(descriptor, parent), name="cancel-watch")
        self._watcher.daemon = True
        self._watcher.start()
        return self

    def _on_signal(self, number, frame):
        self.cancel("received {0}".format(signal.Signals(number).name))

    def _watch(self, descriptor, parent):
        poller = None
        if descriptor is not None and hasattr(select, "poll"):
            poller = select.poll()
            poller.register(descriptor, 0)  # POLLERR and POLLHUP are always reported
        while not self._event.wait(POLL_SECONDS):
            if poller is not None and any(events & (select.POLLERR | select.POLLHUP) for dummy, events in poller.poll(0)):
                self.cancel("ansible-playbook is gone: nobody reads this module's output")
            elif os.getppid() != parent:
                self.cancel("ansible-playbook is gone: the module's parent process ended")


def _pipe_descriptor(stream):
    """The file descriptor of ``stream`` when it is a pipe (as Ansible runs modules), else None."""
    try:
        descriptor = stream.fileno()
        return descriptor if stat.S_ISFIFO(os.fstat(descriptor).st_mode) else None
    except (AttributeError, OSError, ValueError):
        return None
