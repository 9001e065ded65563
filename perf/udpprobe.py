#!/usr/bin/env python3
"""Counting UDP sender/receiver and UDP RTT probe for the lab self-tests.

  udpprobe.py recv --port P [--idle S] [--deadline S]
      counts sequence-numbered datagrams until S seconds pass without one;
      prints one JSON line: received, unique, duplicates, late (arrived
      after a higher sequence), lost, loss bursts and their mean length,
      bytes and the arrival span.
  udpprobe.py send --dst IP --port P --count N [--size B] [--pps R]
      sends N datagrams of B bytes, paced at R per second.
  udpprobe.py echo --port P [--deadline S]
      echoes datagrams back (the far end of an RTT probe).
  udpprobe.py rtt --dst IP --port P [--count N] [--interval S]
      sends N probes one at a time and prints JSON: min, median, max (ms).

Only addresses given on the command line are used; the lab passes its own.
"""
import argparse
import json
import socket
import statistics
import struct
import sys
import time

HDR = struct.Struct("!Q")


def bound(port, deadline=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # SO_RCVBUFFORCE (33) as root: the receiver must not be the one dropping.
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("0.0.0.0", port))
    return s


def cmd_recv(a):
    s = bound(a.port)
    seen = bytearray()
    received = unique = dups = late = nbytes = 0
    highest = -1
    first = last = None
    s.settimeout(a.deadline)
    end = time.monotonic() + a.deadline
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        now = time.monotonic()
        if first is None:
            first = now
        last = now
        s.settimeout(max(0.01, min(a.idle, end - now)))
        if len(data) < HDR.size:
            continue
        (seq,) = HDR.unpack_from(data)
        received += 1
        nbytes += len(data)
        if seq >= len(seen):
            seen.extend(b"\0" * (seq + 1 - len(seen) + 4096))
        if seen[seq]:
            dups += 1
            continue
        seen[seq] = 1
        unique += 1
        if seq < highest:
            late += 1
        highest = max(highest, seq)
        if now >= end:
            break
    bursts = lost = 0
    run = 0
    for i in range(highest + 1):
        if seen[i]:
            if run:
                bursts += 1
            run = 0
        else:
            lost += 1
            run += 1
    if run:
        bursts += 1
    print(json.dumps({
        "received": received, "unique": unique, "duplicates": dups,
        "late": late, "highest": highest, "lost": lost, "bursts": bursts,
        "mean_burst": lost / bursts if bursts else 0.0, "bytes": nbytes,
        "span_s": (last - first) if first is not None else 0.0,
    }))


def cmd_send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    pad = b"\0" * max(0, a.size - HDR.size)
    start = time.monotonic()
    batch = 32
    i = 0
    while i < a.count:
        for _ in range(min(batch, a.count - i)):
            while True:
                try:
                    s.sendto(HDR.pack(i) + pad, (a.dst, a.port))
                    break
                except OSError:
                    time.sleep(0.0005)  # ENOBUFS: wait, never skip a number
            i += 1
        ahead = start + i / a.pps - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    print(json.dumps({"sent": a.count, "seconds": time.monotonic() - start}))


def cmd_echo(a):
    s = bound(a.port)
    s.settimeout(a.deadline)
    try:
        while True:
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
    except socket.timeout:
        pass


def cmd_rtt(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    rtts = []
    for i in range(a.count):
        t0 = time.monotonic()
        s.sendto(HDR.pack(i), (a.dst, a.port))
        try:
            while True:
                data = s.recv(64)
                if HDR.unpack_from(data)[0] == i:
                    break
        except socket.timeout:
            continue
        rtts.append((time.monotonic() - t0) * 1e3)
        time.sleep(a.interval)
    if not rtts:
        print(json.dumps({"replies": 0}))
        return 1
    print(json.dumps({"replies": len(rtts), "min_ms": min(rtts),
                      "median_ms": statistics.median(rtts), "max_ms": max(rtts)}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--idle", type=float, default=1.0)
    r.add_argument("--deadline", type=float, default=30.0)
    s = sub.add_parser("send")
    s.add_argument("--dst", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--size", type=int, default=64)
    s.add_argument("--pps", type=float, default=50000)
    e = sub.add_parser("echo")
    e.add_argument("--port", type=int, required=True)
    e.add_argument("--deadline", type=float, default=30.0)
    t = sub.add_parser("rtt")
    t.add_argument("--dst", required=True)
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--count", type=int, default=50)
    t.add_argument("--interval", type=float, default=0.01)
    a = p.parse_args()
    fn = {"recv": cmd_recv, "send": cmd_send, "echo": cmd_echo, "rtt": cmd_rtt}[a.cmd]
    return fn(a) or 0


if __name__ == "__main__":
    sys.exit(main())
