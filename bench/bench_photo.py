"""A 5 MB photo whose upload dies at 80%: how much does the resume send?

    python -m bench.bench_photo [--megabytes 5] [--rate-kbit 1024] [--json]

A laptop attaches a photo to a beneficiary the hub already holds, and uploads it through
`../shared/tools/badlink_proxy.py` (300 ms one-way delay). The hub's server (waitress)
closes the connection after every `204` answer, so each 256 KiB tus PATCH travels on a
connection of its own and the proxy's per-connection `--drop-after-bytes` cannot aim at
80% of the photo. So the death is staged in two steps: the upload runs until the hub holds
just under 80%, then the next PATCH goes through a proxy that cuts its connection half way
into that chunk (`--drop-after-bytes 131072 --max-drops 1`, retries off): the link died
at a little over 80%. Then the laptop resumes through a fresh proxy with no cuts; the
bytes that proxy carries up are what the resume sent.

Floors measured in the same run: stdlib sqlite3 inserting 10,000 visit rows (DESIGN.md §7),
and the 20% of the photo that a perfect resume would have to send.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from urllib3.util.retry import Retry

from bench.badlink import BadLink
from bench.common import design_floor, one_laptop
from client_sync.engine import SyncResult, pull_all, push_outbox
from client_sync.hub import HubClient
from client_sync.photos import DEFAULT_CHUNK_BYTES, attach, upload_pending
from client_sync.transport import HttpTransport


class _Stop(Exception):
    """Ends the first part of the upload just before 80%."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def run(size: int, rate_kbit: int, workdir: Path) -> dict:
    floor = design_floor(workdir)
    with one_laptop(workdir) as (hub, laptop, bid, _codes):
        photo = workdir / "serah-terima.jpg"
        head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
        photo.write_bytes(head + hashlib.shake_256(b"kursi roda").digest(size - len(head)))
        digest = attach(laptop.store, "beneficiary", bid, photo, "serah_terima")
        token = laptop.store.identity.token
        direct = HttpTransport(hub.url)
        push_outbox(laptop.store, HubClient(direct, token), SyncResult())  # the record first
        pull_all(laptop.store, HubClient(direct, token), SyncResult())
        direct.close()

        link = ("--delay-ms", "300", "--rate-kbit", str(rate_kbit))
        stop_at = int(size * 0.8) - DEFAULT_CHUNK_BYTES // 2

        def stop_before_80(_sha: str, offset: int, _size: int) -> None:
            if offset >= stop_at:
                raise _Stop(offset)

        start = time.perf_counter()
        clean = BadLink(f"127.0.0.1:{hub.port}", workdir / "clean.json", link)
        clean.start()
        transport = HttpTransport(clean.url)
        try:
            upload_pending(laptop.store, HubClient(transport, token), progress=stop_before_80)
        except _Stop as stopped:
            held = stopped.offset
        transport.close()
        clean_counts = clean.stop()

        cutting = BadLink(
            f"127.0.0.1:{hub.port}",
            workdir / "cut.json",
            (*link, "--drop-after-bytes", "131072", "--max-drops", "1"),
        )
        cutting.start()
        no_retry = HttpTransport(cutting.url, retry=Retry(total=0, raise_on_status=False))
        before = upload_pending(laptop.store, HubClient(no_retry, token))
        no_retry.close()
        cut_counts = cutting.stop()
        first_s = time.perf_counter() - start
        died_at = held + cut_counts.get("c2s_bytes", 0)

        second = BadLink(f"127.0.0.1:{hub.port}", workdir / "second.json", link)
        second.start()
        resumed_transport = HttpTransport(second.url)
        start = time.perf_counter()
        after = upload_pending(laptop.store, HubClient(resumed_transport, token))
        second_s = time.perf_counter() - start
        resumed_transport.close()
        second_counts = second.stop()
        blob = Path(hub.data) / "attachments" / "blobs" / digest
        whole = blob.exists() and hashlib.sha256(blob.read_bytes()).hexdigest() == digest
        laptop.close()
    resume_up = second_counts.get("c2s_bytes", 0)
    return {
        "photo_bytes": size,
        "rate_kbit": rate_kbit,
        "sqlite_floor_10k_s": round(floor, 4),
        "first_attempt": {
            "seconds": round(first_s, 1),
            "hub_held_bytes": held,
            "link_died_at_bytes": died_at,
            "died_at_pct": round(100 * died_at / size, 1),
            "bytes_up": clean_counts.get("c2s_bytes", 0) + cut_counts.get("c2s_bytes", 0),
            "connections": clean_counts.get("connections", 0) + cut_counts.get("connections", 0),
            "cuts": cut_counts.get("aborted"),
            "interrupted": before.interrupted,
        },
        "resume": {
            "seconds": round(second_s, 1),
            "bytes_up": resume_up,
            "share_of_photo_pct": round(100 * resume_up / size, 1),
            "floor_pct": round(100 * (size - died_at) / size, 1),
            "connections": second_counts.get("connections"),
            "sent": after.sent,
        },
        "hub_blob_matches_sha256": whole,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--rate-kbit", type=int, default=1024)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-photo-") as tmp:
        figures = run(int(args.megabytes * 1_000_000), args.rate_kbit, Path(tmp))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    first, resume = figures["first_attempt"], figures["resume"]
    print(
        f"photo {figures['photo_bytes']:,} B over 300 ms one-way, {figures['rate_kbit']} kbit/s; "
        f"sqlite3 floor {figures['sqlite_floor_10k_s']} s"
    )
    print(
        f"first attempt: {first['bytes_up']:,} B up in {first['seconds']} s over "
        f"{first['connections']} connections; the link died at {first['died_at_pct']}% "
        f"({first['cuts']} cut) with the hub holding {first['hub_held_bytes']:,} B"
    )
    print(
        f"resume: {resume['bytes_up']:,} B up = {resume['share_of_photo_pct']}% of the photo "
        f"(floor {resume['floor_pct']}%) in {resume['seconds']} s; "
        f"hub blob matches sha256: {figures['hub_blob_matches_sha256']}"
    )


if __name__ == "__main__":
    main()
