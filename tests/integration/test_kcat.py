#!/usr/bin/env python3
"""
test_kcat: kcat (librdkafka) against a real broker, unchanged.

- a file of lines produced with kcat -P comes back identical with
  kcat -C -o beginning -e (auto-created topic, num.partitions partitions);
- keys (-K:) and headers (-H) round trip; explicit partitions (-p) keep
  records apart; -o N starts at offset N;
- every kcat codec (-z) round trips;
- kcat -L -J lists the broker and the topics with their partition counts.
"""
# strait-test: asan

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from broker import check, check_eq, note, run_test  # noqa: E402

PARTITIONS = 3


def kcat(bootstrap, *args, stdin=None, timeout=60):
    cmd = ["kcat", "-b", bootstrap, "-m", "15", "-q"] + list(args)
    out = subprocess.run(cmd, input=stdin if stdin is not None else b"",
                         capture_output=True, timeout=timeout)
    check(out.returncode == 0, "`%s` exited with %d: %s" % (
        " ".join(cmd), out.returncode, out.stderr.decode(errors="replace")[-2000:]))
    return out.stdout


def consume(bootstrap, topic, *args):
    return kcat(bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", *args)


def lines_file_content():
    lines = []
    for i in range(2000):
        if i % 97 == 0:
            lines.append("line %d: %s" % (i, "x" * 5000))      # long line
        elif i % 31 == 0:
            lines.append("line %d: ünïcødé ✓ \t tab" % i)
        else:
            lines.append("line %d of the file" % i)
    return ("\n".join(lines) + "\n").encode()


def main(t):
    b = t.broker(overrides={"num.partitions": str(PARTITIONS)})
    bs = b.bootstrap

    # 1. A file of lines, one partition so the order is the file's order.
    content = lines_file_content()
    path = t.path("lines.txt")
    with open(path, "wb") as f:
        f.write(content)
    with open(path, "rb") as f:
        kcat(bs, "-P", "-t", "lines", "-p", "0", stdin=f.read())
    got = consume(bs, "lines", "-p", "0")
    check(got == content, "consumed %d bytes differ from the %d bytes produced (first diff at %s)"
          % (len(got), len(content),
             next((i for i, (a, c) in enumerate(zip(got, content)) if a != c), min(len(got), len(content)))))
    note("file of %d lines round-tripped" % content.count(b"\n"))

    # 2. Start at an explicit offset.
    got = kcat(bs, "-C", "-t", "lines", "-p", "0", "-o", "1500", "-e")
    expect = b"".join(l + b"\n" for l in content.split(b"\n")[1500:-1])
    check(got == expect, "kcat -o 1500 returned %d bytes, expected %d" % (len(got), len(expect)))

    # 3. Keys and headers, explicit partitions.
    for p in range(PARTITIONS):
        data = "".join("key-%d-%d:value-%d-%d\n" % (p, i, p, i) for i in range(50)).encode()
        kcat(bs, "-P", "-t", "keyed", "-p", str(p), "-K:", "-H", "origin=kcat",
             "-H", "part=%d" % p, stdin=data)
    for p in range(PARTITIONS):
        got = kcat(bs, "-C", "-t", "keyed", "-p", str(p), "-o", "beginning", "-e",
                   "-f", "%p|%o|%k|%s|%h\n").decode().splitlines()
        check_eq(len(got), 50, "records in keyed partition %d" % p)
        for i, line in enumerate(got):
            expect = "%d|%d|key-%d-%d|value-%d-%d|origin=kcat,part=%d" % (p, i, p, i, p, i, p)
            check_eq(line, expect, "record %d of keyed partition %d" % (i, p))
    note("keys, headers and explicit partitions round-tripped")

    # 4. Every codec kcat offers.
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        data = "".join("%s record %d %s\n" % (codec, i, "abc" * (i % 50)) for i in range(500)).encode()
        kcat(bs, "-P", "-t", "codec-" + codec, "-p", "1", "-X", "compression.codec=" + codec,
             "-X", "linger.ms=50", stdin=data)
        got = kcat(bs, "-C", "-t", "codec-" + codec, "-p", "1", "-o", "beginning", "-e")
        check(got == data, "codec %s: consumed %d bytes, produced %d" % (codec, len(got), len(data)))
    note("codecs none/gzip/snappy/lz4/zstd round-tripped")

    # 5. Metadata listing.
    meta = json.loads(kcat(bs, "-L", "-J").decode())
    brokers = meta.get("brokers", [])
    check(len(brokers) == 1, "kcat -L lists %d brokers, expected 1: %r" % (len(brokers), brokers))
    check(brokers[0]["name"].endswith(":%d" % b.port),
          "broker advertised as %r, expected port %d" % (brokers[0]["name"], b.port))
    broker_id = brokers[0]["id"]
    topics = {tp["topic"]: tp for tp in meta.get("topics", [])}
    for name in ["lines", "keyed"] + ["codec-" + c for c in ("none", "gzip", "snappy", "lz4", "zstd")]:
        check(name in topics, "topic %s missing from kcat -L: %s" % (name, sorted(topics)))
        parts = topics[name]["partitions"]
        check_eq(len(parts), PARTITIONS, "partitions of auto-created topic %s" % name)
        for p in parts:
            check_eq(p["leader"], broker_id, "leader of %s [%d]" % (name, p["partition"]))
            check(not p.get("error") and not topics[name].get("error"),
                  "metadata error on %s: %r" % (name, topics[name]))

    b.stop()


run_test(main)
