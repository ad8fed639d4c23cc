"""A thousand visits over a poor link: time, bytes per record, and what dropped connections cost.

    python -m bench.bench_link [--records 1000] [--json]

For each link setting of `../shared/tools/README.md` (300 ms one-way, 256 kbit/s; then with
random drops `--drop-prob 0.004 --max-drops 4 --seed 7`; then four certain cuts
`--drop-after-bytes 40000 --max-drops 4`) a fresh hub is served in its own process, a
laptop records the visits offline, and one `sync` (push and pull) runs through the proxy,
retried as the daemon would until it succeeds. Printed: wall time, bytes up and down per
record as the proxy counted them (TCP payload: headers and bodies), extra bytes up against
the clean link, and the checks that nothing was lost or doubled.

Floors measured in the same run: stdlib sqlite3 inserting 10,000 such rows (DESIGN.md §7),
and the link's own floor: one round trip for the handshake plus the gzipped records at the
link's rate, which no protocol can beat.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from bench.badlink import BadLink
from bench.common import as_json, design_floor, new_id, one_laptop, visit_fields
from client_sync import FieldDevice
from client_sync.errors import SyncError
from client_sync.transport import HttpTransport

LINK = ("--delay-ms", "300", "--rate-kbit", "256")
SETTINGS = {
    "clean": LINK,
    "random drops": (*LINK, "--drop-prob", "0.004", "--max-drops", "4", "--seed", "7"),
    "4 cuts": (*LINK, "--drop-after-bytes", "40000", "--max-drops", "4"),
}


def one_setting(name: str, options: tuple[str, ...], records: int, workdir: Path) -> dict:
    with one_laptop(workdir, "budi") as (hub, laptop, bid, codes):
        laptop.sync()  # the beneficiary is on the hub before the measured round
        made = [laptop.store.add("visit", visit_fields(bid, n)) for n in range(records)]
        link = BadLink(f"127.0.0.1:{hub.port}", workdir / f"{name}.json", options)
        link.start()
        through_link = FieldDevice(
            laptop.home, laptop.store, transport_factory=lambda _url: HttpTransport(link.url)
        )
        rounds, failures = 0, []
        start = time.perf_counter()
        while True:
            rounds += 1
            try:
                through_link.sync()
                break
            except SyncError as exc:  # the daemon would try again; so does the benchmark
                failures.append(str(exc))
                if rounds >= 6:
                    raise
        elapsed = time.perf_counter() - start
        counters = link.stop()
        stats = json.loads(hub.cli("stats", "--json"))
        other = FieldDevice.enroll(workdir / "laptop-b", hub.url, codes["budi"], "laptop-b")
        other.sync()
        seen = {v["id"] for v in other.store.list("visit")}
        laptop.close()
        other.close()
    return {
        "setting": name,
        "seconds": round(elapsed, 2),
        "rounds": rounds,
        "failed_rounds": failures,
        "connections": counters.get("connections"),
        "cuts": counters.get("aborted"),
        "bytes_up": counters.get("c2s_bytes"),
        "bytes_down": counters.get("s2c_bytes"),
        "up_per_record": round(counters.get("c2s_bytes", 0) / records, 1),
        "down_per_record": round(counters.get("s2c_bytes", 0) / records, 1),
        "hub_visits": stats["records"]["visit"],
        "hub_changes": stats["changes"],
        "lost": len(set(made) - seen),
        "doubled": stats["records"]["visit"] - records,
    }


def link_floor_seconds(records: int) -> float:
    """One handshake round trip, then the gzipped visits at 256 kbit/s."""
    body = "[" + ",".join(as_json(visit_fields(new_id(), n)) for n in range(records)) + "]"
    return 0.6 + len(gzip.compress(body.encode())) * 8 / 256_000


def run(records: int, workdir: Path) -> dict:
    floor = design_floor(workdir)
    results = [
        one_setting(name, options, records, workdir / name.replace(" ", "-"))
        for name, options in SETTINGS.items()
    ]
    clean_up = results[0]["bytes_up"]
    for result in results:
        result["extra_up_pct"] = round(100 * (result["bytes_up"] - clean_up) / clean_up, 1)
        result["x_sqlite_floor"] = round(result["seconds"] / floor, 1)
    return {
        "records": records,
        "sqlite_floor_10k_s": round(floor, 4),
        "link_floor_s": round(link_floor_seconds(records), 2),
        "settings": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-link-") as tmp:
        figures = run(args.records, Path(tmp))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"floors: sqlite3 10,000 rows {figures['sqlite_floor_10k_s']} s; "
        f"link (1 RTT + gzipped records at 256 kbit/s) {figures['link_floor_s']} s"
    )
    for r in figures["settings"]:
        print(
            f"{r['setting']:>13}: {r['seconds']} s in {r['rounds']} round(s), "
            f"{r['up_per_record']} B up + {r['down_per_record']} B down per record, "
            f"extra up {r['extra_up_pct']}%, cuts {r['cuts']}, connections {r['connections']}, "
            f"lost {r['lost']}, doubled {r['doubled']}"
        )


if __name__ == "__main__":
    main()
