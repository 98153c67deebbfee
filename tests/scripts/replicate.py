#!/usr/bin/python3
"""strait replica serve and receive (TAP): capture over NBD, the journal, the
transport, the replica and recovery points, with real clients (libnbd) and
crash trials.

Each trial starts the recovery region's side (`strait replica receive`) and
the protected side (`strait replica serve --target`), runs a workload that
overwrites random 4 KiB slots of the protected disk through NBD (a flush now
and then), and SIGKILLs at a random moment the protected side, the recovery
side, or both (in turn). The workload logs every write it issues before
issuing it. What was killed is started again (crash recovery: the journal's
torn tail, the activity log's extents resent; the replica's last durable
record) and both are stopped with SIGTERM (the last ship, the last point). Then every point the trial cut is
restored and must equal, byte for byte, the disk after some prefix of the
issued writes (a recovery point is never torn nor out of order), and the
newest point must equal the source disk exactly (nothing acknowledged is
lost). $STRAIT_CRASH_TRIALS sets the number of trials (default 10;
`make crash` runs 100).
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

try:
    import nbd
except ImportError:
    print("1..1\nnot ok 1 - python3-libnbd is missing (scripts/deps.sh installs it)")
    sys.exit(1)

STRAIT = os.environ["STRAIT"]
TRIALS = int(os.environ.get("STRAIT_CRASH_TRIALS", "10"))
SIZE = 8 << 20
BS = 4096
SLOTS = 512
STRIDE = SIZE // SLOTS  # slots spread over every chunk of the disk
rng = random.Random(int(os.environ.get("STRAIT_CRASH_SEED", "20261122")))
tmp = tempfile.mkdtemp(prefix="strait-repl-")
disk, store, work = f"{tmp}/disk.img", f"{tmp}/store", f"{tmp}/work"
sock = f"{tmp}/nbd.sock"
tgt_port = 0
n = fails = 0
print(f"1..{TRIALS * 2 + 3}")


def result(ok, what, diag=""):
    global n, fails
    n += 1
    if not ok:
        fails += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
    for line in diag.splitlines():
        print(f"# {line}")
    sys.stdout.flush()


def strait(*args, check=True):
    p = subprocess.run([STRAIT, "replica", *args, "--store", store], capture_output=True, text=True)
    if check and p.returncode:
        raise RuntimeError(f"strait replica {' '.join(args)}: {p.stderr.strip()}")
    return p


def start_recv():
    """The recovery region's side, on the same port every time."""
    global tgt_port
    p = subprocess.Popen([STRAIT, "replica", "receive", "--store", store, "--work", f"{tmp}/tgt",
                          "--listen", f"127.0.0.1:{tgt_port}", "--interval", "1s"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("receiving on 127.0.0.1:"):
        raise RuntimeError(f"receive did not start: {line} {p.stderr.read()}")
    tgt_port = int(line.split(":")[1].split(",")[0])
    return p


def start(split=False):
    if os.path.exists(sock):
        os.unlink(sock)
    where = ["--target", f"127.0.0.1:{tgt_port}"] if split else ["--store", store]
    p = subprocess.Popen([STRAIT, "replica", "serve", *where, "--work", work,
                          "--socket", sock, "--interval", "1s", f"vm1-os={disk}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        if os.path.exists(sock):
            return p
        if p.poll() is not None:
            raise RuntimeError(f"serve exited {p.returncode}: {p.stderr.read()}")
        time.sleep(0.02)
    raise RuntimeError("serve did not listen")


def stop(p):
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    err = p.stderr.read()
    if rc:
        raise RuntimeError(f"serve exited {rc} on SIGTERM: {err}")


def points():
    import json
    return [p["point"] for p in json.loads(strait("points", "vm1-os", "-o", "json", check=False).stdout or "[]")]


def slots_of(path):
    with open(path, "rb") as f:
        data = f.read()
    return [data[i * STRIDE:i * STRIDE + BS] for i in range(SLOTS)], data


def pattern(trial, i):
    seed = f"{trial}:{i}:".encode()
    return (seed * (BS // len(seed) + 1))[:BS]


def workload(issued, stop_evt, trial):
    h = nbd.NBD()
    h.set_export_name("vm1-os")
    try:
        h.connect_unix(sock)
        i = 0
        while not stop_evt.is_set():
            slot = rng.randrange(SLOTS)
            issued.append(slot)
            h.pwrite(pattern(trial, i), slot * STRIDE)
            i += 1
            if i % 20 == 0:
                h.flush()
    except nbd.Error:
        pass  # the server was killed


try:
    with open(disk, "wb") as f:
        f.truncate(SIZE)
        f.seek(3 << 20)
        f.write(os.urandom(1 << 20))
    p = start()
    stop(p)
    base_slots, base = slots_of(disk)
    strait("restore", "vm1-os", f"{tmp}/r.img")
    result(open(f"{tmp}/r.img", "rb").read() == base and points() == [1],
           "initial copy: point 1 equals the source")

    # real clients: qemu-io through NBD, then the newest point equals the source
    p = start()
    url = f"nbd+unix:///vm1-os?socket={sock}"
    q = subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x5c 1M 256k", "-c", "write -z 3M 64k",
                        "-c", "discard 4M 1M", url], capture_output=True, text=True)
    stop(p)
    strait("restore", "vm1-os", f"{tmp}/r.img")
    result(q.returncode == 0 and open(f"{tmp}/r.img", "rb").read() == open(disk, "rb").read(),
           "qemu-io writes, zeroes and discards reach the newest point", q.stderr)

    # From here the two sides run apart: a receiver for the recovery region,
    # and the protected side shipping to it (its journal carried over).
    shutil.rmtree(work)
    for trial in range(TRIALS):
        before = set(points())
        start_slots, _ = slots_of(disk)
        r = start_recv()
        p = start(split=True)
        issued, evt = [], threading.Event()
        th = threading.Thread(target=workload, args=(issued, evt, trial))
        th.start()
        time.sleep(rng.uniform(0.2, 2.5))
        victim = ("protected", "recovery", "both")[trial % 3]
        if victim != "recovery":
            p.kill()
            p.wait()
            evt.set()
            th.join()
        if victim != "protected":
            r.kill()
            r.wait()
            time.sleep(rng.uniform(0, 0.5))  # the link stays down a while
            r = start_recv()
        if victim == "recovery":
            time.sleep(rng.uniform(0.2, 1.0))
            evt.set()
            th.join()
        else:
            p = start(split=True)  # crash recovery
        stop(p)
        stop(r)
        new = sorted(set(points()) - before)
        # every new point is the disk after some prefix of the issued writes
        bad = []
        for pt in new:
            strait("restore", "vm1-os", f"{tmp}/r.img", "--point", str(pt))
            got, _ = slots_of(f"{tmp}/r.img")
            state = list(start_slots)
            mism = sum(1 for k in range(SLOTS) if state[k] != got[k])
            found = mism == 0
            for i, slot in enumerate(issued):
                if found:
                    break
                was = state[slot] != got[slot]
                state[slot] = pattern(trial, i)
                mism += (state[slot] != got[slot]) - was
                found = mism == 0
            if not found:
                bad.append(pt)
        result(not bad and new, f"trial {trial + 1}: {len(issued)} writes, "
               f"{'both sides' if victim == 'both' else 'the ' + victim + ' side'} killed; "
               f"{len(new)} points, each a prefix of the writes",
               f"points not a prefix: {bad}" if bad else "")
        strait("restore", "vm1-os", f"{tmp}/r.img")
        same = open(f"{tmp}/r.img", "rb").read() == open(disk, "rb").read()
        result(same, f"trial {trial + 1}: after recovery the newest point equals the source")

    strait("prune", "vm1-os", "--retention", "0")
    strait("gc")
    strait("restore", "vm1-os", f"{tmp}/r.img")
    result(open(f"{tmp}/r.img", "rb").read() == open(disk, "rb").read(),
           "prune and gc keep the newest point whole")
except Exception as e:  # a harness failure is a failed test, never a skip
    result(False, f"harness: {e}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if fails else 0)
