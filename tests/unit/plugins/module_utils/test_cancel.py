"""_cancel.py: a module process notices that ansible-playbook is gone, or was told to stop."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import signal
import subprocess
import sys
import textwrap
import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._cancel import Cancellation, Cancelled

# A stand-in for a module process: it watches, then records why it was cancelled (or that it was not).
CHILD = textwrap.dedent("""
    import sys, time
    from ansible_collections.ovhcloud.exchange.plugins.module_utils._cancel import Cancellation
    cancellation = Cancellation().watch()
    sys.stdout.write("watching\\n"); sys.stdout.flush()
    cancelled = cancellation.wait(20)
    with open(sys.argv[1], "w") as record:
        record.write(cancellation.reason if cancelled else "not cancelled")
""")


def start_child(tmp_path):
    record = tmp_path / "record"
    # The child finds the collection where this test found it.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(record)], stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline() == b"watching\n"
    return child, record


def test_the_reader_of_its_output_going_away_cancels(tmp_path):
    child, record = start_child(tmp_path)
    child.stdout.close()  # what happens to the pipe when the Ansible worker dies
    child.wait(timeout=15)
    assert "nobody reads this module's output" in record.read_text()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_cancels(tmp_path, number):
    child, record = start_child(tmp_path)
    child.send_signal(number)
    child.wait(timeout=15)
    assert record.read_text() == "received {0}".format(signal.Signals(number).name)


def test_check_raises_once_cancelled_and_says_why():
    cancellation = Cancellation()
    cancellation.check("write")
    cancellation.cancel("received SIGTERM")
    cancellation.cancel("a later reason is not kept")
    with pytest.raises(Cancelled, match=r"cancelled \(received SIGTERM\): did not write"):
        cancellation.check("write")
