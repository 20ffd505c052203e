#!/usr/bin/env python3
"""
demo_workload.py - the traffic and the live view of `make demo`.

Produces numbered orders to the east region (10 a second, keyed, with a
header), runs a consumer group "billing" on east that commits as it goes, and
every 2 seconds prints one line per region pair: records produced on east,
records present on west, the east->west flow's lag (records and ms) from the
west sidecar's /status, and where "billing" would resume on west (the
translated offset from /offsets/translate). Stops on Ctrl-C / SIGTERM.

Run with Debian's /usr/bin/python3 (python3-confluent-kafka).
"""
import json
import signal
import sys
import threading
import time
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition

EAST = "127.0.0.1:9092"
WEST = "127.0.0.1:9192"
WEST_SIDECAR = "http://127.0.0.1:8702"
TOPIC = "orders"
stop = threading.Event()


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return json.loads(r.read().decode())
    except Exception:  # the view must keep going while a region restarts
        return None


def produce_loop(counter):
    p = Producer({"bootstrap.servers": EAST, "enable.idempotence": True, "linger.ms": 5})
    n = 0
    while not stop.is_set():
        p.produce(TOPIC, key=b"customer-%d" % (n % 7), value=b"order %d" % n,
                  headers=[("origin", b"demo")])
        p.poll(0)
        n += 1
        counter[0] = n
        time.sleep(0.1)
    p.flush(5)


def billing_loop():
    c = Consumer({"bootstrap.servers": EAST, "group.id": "billing",
                  "auto.offset.reset": "earliest", "enable.auto.commit": True,
                  "auto.commit.interval.ms": 1000})
    c.subscribe([TOPIC])
    while not stop.is_set():
        c.poll(0.5)
    c.close()


def records_on(bootstrap):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "demo-view"})
    try:
        md = c.list_topics(TOPIC, timeout=2)
        parts = md.topics.get(TOPIC)
        if parts is None or parts.error is not None:
            return 0
        total = 0
        for p in parts.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=2)
            total += hi
        return total
    except Exception:
        return -1
    finally:
        c.close()


def main():
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    produced = [0]
    threads = [threading.Thread(target=produce_loop, args=(produced,), daemon=True),
               threading.Thread(target=billing_loop, daemon=True)]
    for t in threads:
        t.start()
    print("demo: producing 10 orders/s to east; group 'billing' consumes on east; "
          "watching the copy on west (Ctrl-C stops)", flush=True)
    try:
        while not stop.is_set():
            time.sleep(2)
            status = get_json(WEST_SIDECAR + "/status") or {}
            flow = next((f for f in status.get("flows", []) if f.get("name") == "east->west"), {})
            tr = get_json(WEST_SIDECAR + "/offsets/translate?group=billing&from=east") or {}
            resume = ", ".join("p%s: east %s -> west %s" % (o.get("partition"), o.get("source_offset"),
                                                             o.get("target_offset"))
                               for o in tr.get("offsets", [])[:3]) or "no checkpoint yet"
            print("%s  east produced %5d | west holds %5d | east->west copied %5s lag %s records %s ms"
                  " | billing resumes on west at: %s"
                  % (time.strftime("%H:%M:%S"), produced[0], records_on(WEST),
                     flow.get("records_copied", "?"), flow.get("lag_records", "?"),
                     flow.get("lag_ms", "?"), resume), flush=True)
    except KeyboardInterrupt:
        pass
    stop.set()
    for t in threads:
        t.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
