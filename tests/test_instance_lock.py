import signal
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.ops.instance_lock import AlreadyRunning, InstanceLock

HOLDER = """
import sys, time
from appliance.ops.instance_lock import InstanceLock
InstanceLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_second_lock_in_the_same_process_is_refused(data_dir: Path) -> None:
    with InstanceLock(data_dir):
        with pytest.raises(AlreadyRunning, match="already running"):
            InstanceLock(data_dir).acquire()
    InstanceLock(data_dir).acquire().release()  # free again once released


def test_lock_held_by_another_process_and_freed_by_kill_9(data_dir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        lock = InstanceLock(data_dir)
        assert lock.is_held_elsewhere()
        with pytest.raises(AlreadyRunning, match=f"pid {proc.pid}"):
            lock.acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The kernel drops a dead process's lock: no stale lock file can block a restart.
    assert not InstanceLock(data_dir).is_held_elsewhere()
    InstanceLock(data_dir).acquire().release()
