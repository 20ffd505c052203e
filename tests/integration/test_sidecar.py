"""
test_sidecar.py - issue 4 items 1/7/8, the sidecar process itself: a bad
topology makes `strait sidecar` exit 2 with FILE:LINE; two regions on
loopback (two brokers, two sidecars) answer /healthz, /status (JSON shape),
/metrics (parses as Prometheus text), 404s; SIGTERM stops a sidecar with
status 0 in seconds; `strait offsets translate` exits 1 when the sidecar is
unreachable. Mirroring itself: test_sidecar_mirror.py.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from broker import check, check_eq, free_port, run_test  # noqa: E402
from sidecar import Sidecar, check_bad_topology, check_metrics, cli, write_topology  # noqa: E402

def main(t):
    check_bad_topology(t)
    east = t.broker(name="east", overrides={"node.id": "1", "cluster.id": "sidecar-test"})
    west = t.broker(name="west", overrides={"node.id": "101", "cluster.id": "sidecar-test"})
    ports = (free_port(), free_port())
    topology = write_topology(t.path("topology.yaml"), east, west, ports, t.path("state"))
    sidecars = [Sidecar(t, topology, "east", ports[0]), Sidecar(t, topology, "west", ports[1])]
    try:
        for sc in sidecars:
            sc.start()
        sc_east, sc_west = sidecars
        check_eq(sc_west.get("/nothing")[0], 404, "/nothing code")
        check_eq(sc_west.get("/offsets/translate?group=g&from=north")[0], 404,
                 "/offsets/translate from a region without a flow")
        check_eq(sc_west.get("/offsets/translate?from=east")[0], 400,
                 "/offsets/translate without group=")
        st = sc_west.status()
        check_eq(st["region"], "west", "/status region")
        check_eq([f["name"] for f in st["flows"]], ["east->west"], "/status flows")
        for key in ("state", "last_error", "records_copied", "lag_records", "lag_ms",
                    "last_poll_ms", "last_produce_ms", "last_checkpoint_ms", "group_sync",
                    "partitions"):
            check(key in st["flows"][0], "/status flow has no %r: %r" % (key, st["flows"][0]))
        check_metrics(sc_west, require_partitions=False)
        rc, out, err = cli("offsets", "translate", "--topology", topology, "--group", "nobody",
                           "--from", "east", "--to", "west", "--json")
        check_eq(rc, 0, "offsets translate of an unknown group (stderr %r)" % err)
        check_eq(json.loads(out)["offsets"], [], "offsets of an unknown group")
        sc_west.stop()
        rc, out, err = cli("offsets", "translate", "--topology", topology, "--group", "billing",
                           "--from", "east", "--to", "west")
        check_eq(rc, 1, "offsets translate exit status with west's sidecar down (stderr %r)" % err)
        check("cannot connect to sidecar 127.0.0.1:%d" % ports[1] in err, "message: %r" % err)
        sc_east.stop()
    except BaseException:
        for sc in sidecars:
            if sc.proc is not None:
                sc.dump_log()
        raise


run_test(main)
