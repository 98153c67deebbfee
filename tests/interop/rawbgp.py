#!/usr/bin/env python3
"""rawbgp.py - a BGP-4 speaker that sends hand-built UPDATEs, for RFC 7606 tests.

It does what the real routers of peer.sh cannot: duplicated attributes, a
NEXT_HOP of the wrong length or with the wrong flags, missing mandatory
attributes, any byte at all. It connects (never listens) from LOCAL to REMOTE,
exchanges OPEN (4-octet AS, multiprotocol IPv4 and IPv6 unicast, route
refresh) and KEEPALIVE, then runs commands, reporting what happens on stdout,
one line each (flushed):

    rawbgp.py --local IP --remote IP --as N [--port 179] [--id IP] [--hold 90]
              [--connect-timeout 20] [--stdin] [COMMAND...]

Commands (each one argument, or one line on stdin with --stdin; hex may contain
spaces and underscores):

    announce ATTRS PREFIX...   an UPDATE: path attributes ATTRS (hex, whole
                               attributes with their flags, types and lengths;
                               "-" for none) and the IPv4 prefixes as NLRI
    withdraw PREFIX...         an UPDATE withdrawing IPv4 prefixes
    update HEX                 an UPDATE whose body (after the 19-octet header) is HEX
    raw HEX                    any bytes, sent as they are
    notify CODE SUBCODE [HEX]  a NOTIFICATION, then close
    wait SECS                  read and report for SECS seconds (less when closed)
    close                      close the connection

Reported: "connected", "open as=N id=A hold=H", "established", "sent LEN",
"update HEX" (a received UPDATE's body), "notification C/S HEX" (received),
"closed", "error TEXT". KEEPALIVEs are answered by sending ours every hold/3
seconds. After the last command (or end of stdin) the connection is closed
without a NOTIFICATION. Exit 0, or 1 when no session came up. Python 3 standard
library only.
"""
import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time

MARKER = b"\xff" * 16
OPEN, UPDATE, NOTIFICATION, KEEPALIVE = 1, 2, 3, 4


def say(*words):
    print(" ".join(str(w) for w in words), flush=True)


def unhex(s):
    s = s.replace(" ", "").replace("_", "")
    if s.startswith(("0x", "0X")):
        s = s[2:]
    return bytes.fromhex(s)


def msg(mtype, body):
    return MARKER + struct.pack("!HB", 19 + len(body), mtype) + body


def nlri(prefixes):
    out = b""
    for p in prefixes:
        n = ipaddress.IPv4Network(p, strict=True)
        out += bytes([n.prefixlen]) + n.network_address.packed[: (n.prefixlen + 7) // 8]
    return out


def open_msg(asn, ident, hold):
    caps = b""
    caps += bytes([1, 4]) + struct.pack("!HBB", 1, 0, 1)  # multiprotocol IPv4 unicast
    caps += bytes([1, 4]) + struct.pack("!HBB", 2, 0, 1)  # multiprotocol IPv6 unicast
    caps += bytes([2, 0])  # route refresh
    caps += bytes([65, 4]) + struct.pack("!I", asn)  # 4-octet AS
    params = bytes([2, len(caps)]) + caps
    my_as = asn if asn < 65536 else 23456
    body = struct.pack("!BHH", 4, my_as, hold) + ipaddress.IPv4Address(ident).packed
    return msg(OPEN, body + bytes([len(params)]) + params)


class Session:
    def __init__(self, sock, hold):
        self.sock = sock
        self.buf = b""
        self.closed = False
        self.ka_every = max(1, hold // 3)
        self.next_ka = time.monotonic() + self.ka_every

    def send(self, data):
        if self.closed:
            say("error", "not connected")
            return
        try:
            self.sock.sendall(data)
        except OSError as e:
            say("error", e)
            self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()
            say("closed")

    def messages(self, timeout):
        """Reads what arrives within timeout seconds; yields (type, body)."""
        if self.closed:
            return
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if r:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.close()
                return
            self.buf += data
        while len(self.buf) >= 19:
            length, mtype = struct.unpack("!HB", self.buf[16:19])
            if self.buf[:16] != MARKER or length < 19:
                say("error", "bad message header")
                self.close()
                return
            if len(self.buf) < length:
                break
            body, self.buf = self.buf[19:length], self.buf[length:]
            yield mtype, body

    def keepalive(self):
        if not self.closed and time.monotonic() >= self.next_ka:
            self.send(msg(KEEPALIVE, b""))
            self.next_ka = time.monotonic() + self.ka_every

    def pump(self, secs):
        """Reports incoming messages for secs seconds (until closed)."""
        end = time.monotonic() + secs
        while not self.closed:
            left = end - time.monotonic()
            if left <= 0:
                break
            for mtype, body in self.messages(min(left, 0.2)):
                report(mtype, body)
            self.keepalive()


def report(mtype, body):
    if mtype == UPDATE:
        say("update", body.hex())
    elif mtype == NOTIFICATION and len(body) >= 2:
        say("notification %d/%d" % (body[0], body[1]), body[2:].hex())
    elif mtype == OPEN and len(body) >= 9:
        ver, asn, hold = struct.unpack("!BHH", body[:5])
        say("open as=%d id=%s hold=%d" % (asn, ipaddress.IPv4Address(body[5:9]), hold))


def connect(a):
    """Connects and brings the session up, retrying until connect_timeout."""
    end = time.monotonic() + a.connect_timeout
    while time.monotonic() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.bind((a.local, 0))
            s.settimeout(2)
            s.connect((a.remote, a.port))
            s.settimeout(None)
        except OSError:
            s.close()
            time.sleep(0.2)
            continue
        say("connected")
        sess = Session(s, a.hold)
        sess.send(open_msg(a.asn, a.id or a.local, a.hold))
        got_open = got_ka = False
        deadline = time.monotonic() + 5
        while not sess.closed and not (got_open and got_ka) and time.monotonic() < deadline:
            for mtype, body in sess.messages(0.2):
                report(mtype, body)
                if mtype == OPEN:
                    got_open = True
                    sess.send(msg(KEEPALIVE, b""))
                elif mtype == KEEPALIVE and got_open:
                    got_ka = True
                elif mtype == NOTIFICATION:
                    sess.close()
        if got_open and got_ka:
            say("established")
            return sess
        sess.close()  # refused while the speaker is Idle: try again
        time.sleep(0.2)
    return None


def run(sess, line):
    w = line.split()
    if not w:
        return
    cmd, args = w[0], w[1:]
    if cmd == "announce" and args:
        attrs = b"" if args[0] == "-" else unhex(args[0])
        body = struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + nlri(args[1:])
    elif cmd == "withdraw":
        wd = nlri(args)
        body = struct.pack("!H", len(wd)) + wd + struct.pack("!H", 0)
    elif cmd == "update":
        body = unhex("".join(args))
    elif cmd == "raw":
        data = unhex("".join(args))
        sess.send(data)
        say("sent", len(data))
        return
    elif cmd == "notify" and len(args) >= 2:
        sess.send(msg(NOTIFICATION, bytes([int(args[0]), int(args[1])]) + unhex("".join(args[2:]))))
        sess.close()
        return
    elif cmd == "wait" and args:
        sess.pump(float(args[0]))
        return
    elif cmd == "close":
        sess.close()
        return
    else:
        say("error", "bad command:", line)
        return
    sess.send(msg(UPDATE, body))
    say("sent", 19 + len(body))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--local", required=True)
    ap.add_argument("--remote", required=True)
    ap.add_argument("--as", dest="asn", type=int, required=True)
    ap.add_argument("--port", type=int, default=179)
    ap.add_argument("--id", default=None)
    ap.add_argument("--hold", type=int, default=90)
    ap.add_argument("--connect-timeout", type=float, default=20)
    ap.add_argument("--stdin", action="store_true", help="read commands from stdin after the arguments")
    ap.add_argument("commands", nargs="*")
    a = ap.parse_args()

    sess = connect(a)
    if not sess:
        say("error", "no session with", a.remote)
        return 1
    for c in a.commands:
        run(sess, c)
    if a.stdin:
        buf = b""
        fd = sys.stdin.fileno()
        while not sess.closed:
            r, _, _ = select.select([fd, sess.sock], [], [], 0.2)
            if sess.sock in r:
                for mtype, body in sess.messages(0):
                    report(mtype, body)
            if fd in r:
                data = os.read(fd, 65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    run(sess, line.decode())
            sess.keepalive()
    sess.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
