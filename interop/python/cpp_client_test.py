#!/usr/bin/env python3
"""Interop test on the unchanged Apache RocketMQ C++ client (librocketmq.so shipped in the PyPI wheel
rocketmq-client-python==0.5.0rc2): produce N messages with send_sync, then push-consume them with a
fresh group and check exactly the sent bodies arrive.

    python3 cpp_client_test.py -n 127.0.0.1:9876 [-t TOPIC] [-g GROUP] [-c 1000] [--timeout 60]

Prints "PASS ..." and exits 0, or "FAIL: reason" and exits 1. The C++ consumer has no
consumeFromWhere setting (it uses CONSUME_FROM_LAST_OFFSET): a broker must answer
QUERY_CONSUMER_OFFSET for a new group with 0 while the queue still starts at offset 0 (as the Java
broker does), or this consumer skips everything produced before it started.
"""
import argparse
import os
import random
import sys
import threading
import time


def fail(msg):
    print("FAIL: " + msg, flush=True)
    os._exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", default=os.environ.get("NAMESRV_ADDR"))
    ap.add_argument("-t", dest="topic")
    ap.add_argument("-g", dest="group")
    ap.add_argument("-c", dest="count", type=int, default=1000)
    ap.add_argument("--timeout", type=int, default=60)
    a = ap.parse_args()
    if not a.n:
        fail("-n host:port is required")
    timeout = min(max(a.timeout, 1), 60)
    start = time.time()
    deadline = start + timeout

    def watchdog():
        time.sleep(timeout + 10)
        fail("watchdog: did not finish in %d s" % (timeout + 10))

    threading.Thread(target=watchdog, daemon=True).start()

    try:
        from rocketmq.client import ConsumeStatus, Message, Producer, PushConsumer, SendStatus
    except Exception as e:  # noqa: BLE001
        fail("cannot import rocketmq (pip install --only-binary :all: rocketmq-client-python==0.5.0rc2): %r" % e)

    run = "%x%03d" % (int(time.time() * 1000) % (1 << 40), random.randrange(1000))
    topic = a.topic or "it_cpp_" + run
    group = a.group or "itg_cpp_" + run

    producer = Producer("itp_cpp_" + run, timeout=10000)
    producer.set_namesrv_addr(a.n)
    producer.start()
    expected = set()
    for i in range(a.count):
        body = "%s-%d" % (run, i)
        m = Message(topic)
        m.set_tags("TagCpp")
        m.set_keys("ck-%d" % i)
        m.set_body(body)
        try:
            r = producer.send_sync(m)
        except Exception as e:  # noqa: BLE001
            fail("send %d: %r" % (i, e))
        if r.status != SendStatus.OK or not r.msg_id:
            fail("send %d: status %r msg_id %r" % (i, r.status, r.msg_id))
        expected.add(body)
        if time.time() > deadline:
            fail("timed out after %d sends" % i)
    producer.shutdown()
    send_s = time.time() - start

    lock = threading.Lock()
    got = {}
    errors = []

    def on_message(msg):
        b = msg.body.decode("utf-8", "replace") if isinstance(msg.body, bytes) else str(msg.body)
        with lock:
            got[b] = got.get(b, 0) + 1
            if msg.topic != topic:
                errors.append("message of topic %r delivered to %r" % (msg.topic, topic))
        return ConsumeStatus.CONSUME_SUCCESS

    consumer = PushConsumer(group)
    consumer.set_namesrv_addr(a.n)
    consumer.set_thread_count(2)
    consumer.subscribe(topic, on_message)
    consumer.start()

    def distinct():
        with lock:
            return sum(1 for b in got if b in expected)

    while time.time() < deadline and distinct() < len(expected):
        time.sleep(0.05)
    time.sleep(1.0)
    consumer.shutdown()

    with lock:
        if errors:
            fail(errors[0])
        missing = sorted(b for b in expected if b not in got)
        unexpected = sorted(b for b in got if b not in expected)
        dups = sum(n - 1 for n in got.values())
    if missing:
        fail("%d of %d messages never delivered (e.g. %s)" % (len(missing), len(expected), missing[:5]))
    if unexpected:
        fail("%d unexpected bodies delivered (e.g. %s)" % (len(unexpected), unexpected[:5]))
    if dups:
        fail("%d duplicate deliveries" % dups)
    print("PASS cpp (%d messages sent in %.1f s, all push-consumed exactly once; %d ms)"
          % (len(expected), send_s, (time.time() - start) * 1000), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
