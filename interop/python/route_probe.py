#!/usr/bin/env python3
"""Readiness probe: ask a RocketMQ name server for a topic route (GET_ROUTEINFO_BY_TOPIC = 105,
JSON header) until a broker is registered for it, e.g. TBW102 once a broker with
autoCreateTopicEnable has registered.

    python3 route_probe.py -n 127.0.0.1:9876 [-t TBW102] [--timeout 60]

Exit 0 and print the route JSON when found; exit 1 with "FAIL: ..." otherwise.
"""
import argparse
import json
import socket
import struct
import sys
import time


def request_route(host, port, topic, opaque):
    header = json.dumps({
        "code": 105, "language": "JAVA", "version": 479, "opaque": opaque, "flag": 0,
        "remark": None, "extFields": {"topic": topic}, "serializeTypeCurrentRPC": "JSON",
    }).encode()
    frame = struct.pack(">II", 4 + len(header), len(header)) + header  # serialize type 0 = JSON
    with socket.create_connection((host, port), timeout=3) as s:
        s.sendall(frame)
        buf = b""
        while len(buf) < 4:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed before length")
            buf += chunk
        (total,) = struct.unpack(">I", buf[:4])
        while len(buf) < 4 + total:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-frame")
            buf += chunk
    (hl,) = struct.unpack(">I", buf[4:8])
    stype, hlen = hl >> 24, hl & 0xFFFFFF
    if stype != 0:
        raise ValueError("reply header is not JSON (serialize type %d)" % stype)
    hdr = json.loads(buf[8:8 + hlen])
    body = buf[8 + hlen:4 + total]
    return hdr, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", required=True)
    ap.add_argument("-t", default="TBW102")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    host, port = a.n.rsplit(":", 1)
    deadline = time.time() + a.timeout
    last = "no answer"
    opaque = 1
    while time.time() < deadline:
        try:
            hdr, body = request_route(host, int(port), a.t, opaque)
            if hdr.get("code") == 0 and b"brokerAddrs" in body:
                print(body.decode("utf-8", "replace"))
                return 0
            last = "code %s remark %r" % (hdr.get("code"), hdr.get("remark"))
        except Exception as e:  # noqa: BLE001 - any failure means "not ready yet"
            last = repr(e)
        opaque += 1
        time.sleep(0.3)
    print("FAIL: no route for %s from %s within %.0f s (last: %s)" % (a.t, a.n, a.timeout, last))
    return 1


if __name__ == "__main__":
    sys.exit(main())
