"""USB bundles at month end: many laptops' bundles imported one after another, per record
against a push and the floor.

    python -m bench.bench_bundles [--bundles 200] [--changes 500] [--cli 10] [--json]

Each of `--bundles` laptops (its own user and device, enrolled on the hub) brings one bundle
of `--changes` changes (a beneficiary, then visits of ~760 B, written in the laptop's
format: schemas/bundle_format.py, deflated, signed with the device's key). The hub imports
them one after another with :func:`server.bundle.import_bundle`, the service
`pendamping-hub import-bundle` runs. Between imports, as many other laptops push batches of
the same size and shape through :meth:`server.sync.SyncService.push` (the body parsed from
JSON, as the push view receives it), so both meet a database of the same size.

Printed per record: import and push (wall and CPU), and the floor (stdlib sqlite3 inserting
the same number of rows in one transaction, measured in this run). With `--cli K`, K more
bundles go through the command line: one process per bundle (as an admin would type it),
then all K in one invocation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.common import as_json, floor_seconds, new_id, visit_fields
from schemas.bundle_format import (
    CHANGES,
    CHANGES_TAIL,
    FIRST_SEPARATOR,
    MANIFEST,
    SEPARATOR,
    SIGNATURE,
    bundle_key,
    changes_head,
    manifest_bytes,
    sign_manifest,
)
from schemas.hlc import iso_from_ms, wall_ms
from server.app import create_app
from server.bundle import BundleLimits, import_bundle
from server.enrolment import issue_code, redeem_code
from server.state import HubState, hub_state
from server.storage import Device, User
from server.timeutil import utc_iso

KELURAHAN = "31.71.01.1001"


@dataclass(frozen=True, slots=True)
class Laptop:
    device: Device
    token: str
    user: str


def enrol(state: HubState, name: str) -> Laptop:
    state.storage.add_user(User(name, "pendamping", ("31.71.01",)), utc_iso())
    device, token = redeem_code(state.storage, issue_code(state.storage, name, 1), name)
    return Laptop(device, token, name)


def changes_of(laptop: Laptop, count: int) -> list[str]:
    """A laptop's outbox as it writes it: one beneficiary, then visits to them (JSON text)."""
    device_id, ms = laptop.device.device_id, wall_ms() - 60_000
    bid = new_id()
    fields: list[tuple[str, dict[str, Any]]] = [
        ("beneficiary", {"name": "Ibu Sri", "sex": "P", "kelurahan": KELURAHAN})
    ]
    fields += [
        ("visit", {**visit_fields(bid, n), "kelurahan": KELURAHAN}) for n in range(count - 1)
    ]
    return [
        as_json(
            {
                "change_id": new_id(),
                "entity": entity,
                "record_id": bid if n == 0 else new_id(),
                "base_seq": None,
                "fields": data,
                "hlc": f"{ms:016d}:{n:06d}:{device_id}",
                "device_id": device_id,
                "author_id": laptop.user,
            }
        )
        for n, (entity, data) in enumerate(fields)
    ]


def write_bundle(laptop: Laptop, changes: list[str], path: Path) -> Path:
    """The bundle `pendamping export-bundle` writes for these changes (client_sync/bundle.py)."""
    text = changes_head() + FIRST_SEPARATOR + SEPARATOR.join(changes) + CHANGES_TAIL
    data = text.encode("utf-8")
    manifest = manifest_bytes(
        device_id=laptop.device.device_id,
        user=laptop.user,
        hub_url="http://hub.test",
        created_at=iso_from_ms(wall_ms()),
        changes=len(changes),
        files={CHANGES: hashlib.sha256(data).hexdigest()},
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(CHANGES, data)
        bundle.writestr(MANIFEST, manifest)
        bundle.writestr(SIGNATURE, sign_manifest(bundle_key(laptop.token), manifest))
    return path


def push_body(changes: list[str]) -> bytes:
    return f'{{"protocol":1,"schema_version":1,"changes":[{",".join(changes)}]}}'.encode()


def run(bundles: int, per_bundle: int, workdir: Path, cli: int = 0) -> dict[str, Any]:
    app = create_app({"DATA_DIR": workdir / "hub"})
    state = hub_state(app)
    limits = BundleLimits.from_config(app.config)
    importers = [enrol(state, f"usb-{i:03d}") for i in range(bundles + cli)]
    pushers = [enrol(state, f"net-{i:03d}") for i in range(bundles)]
    paths = [
        write_bundle(laptop, changes_of(laptop, per_bundle), workdir / f"{laptop.user}.zip")
        for laptop in importers
    ]
    bodies = [push_body(changes_of(laptop, per_bundle)) for laptop in pushers]

    wall = {"import": 0.0, "push": 0.0}
    cpu = {"import": 0.0, "push": 0.0}
    counted = {"import": 0, "push": 0}
    for path, pusher, body in zip(paths, pushers, bodies, strict=False):
        t, c = time.perf_counter(), time.process_time()
        summary = import_bundle(state, path, limits=limits, attachments=state.attachments)
        wall["import"] += time.perf_counter() - t
        cpu["import"] += time.process_time() - c
        counted["import"] += summary.applied
        t, c = time.perf_counter(), time.process_time()
        outcome = state.sync.push(pusher.device, orjson.loads(body)["changes"], quiet=True)
        wall["push"] += time.perf_counter() - t
        cpu["push"] += time.process_time() - c
        counted["push"] += sum(r.get("status") == "applied" for r in outcome.receipts)
    records = bundles * per_bundle
    floor = floor_seconds(
        [(new_id(), as_json(visit_fields(new_id(), n))) for n in range(records)], workdir
    )
    state.storage.close()
    figures: dict[str, Any] = {
        "bundles": bundles,
        "changes_per_bundle": per_bundle,
        "records_each_way": records,
        "applied_import": counted["import"],
        "applied_push": counted["push"],
        "floor_s": round(floor, 4),
        "floor_us_per_record": round(floor / records * 1e6, 2),
    }
    for kind in ("import", "push"):
        figures[f"{kind}_s"] = round(wall[kind], 3)
        figures[f"{kind}_cpu_s"] = round(cpu[kind], 3)
        figures[f"{kind}_us_per_record"] = round(wall[kind] / records * 1e6, 1)
        figures[f"{kind}_rec_per_s"] = round(records / wall[kind])
        figures[f"{kind}_x_floor"] = round(wall[kind] / floor, 1)
    figures["import_over_push"] = round(wall["import"] / wall["push"], 2)
    if cli:
        figures.update(_cli(workdir / "hub", paths[bundles:], per_bundle))
    return figures


def _cli(data: Path, paths: list[Path], per_bundle: int) -> dict[str, Any]:
    """`pendamping-hub import-bundle`: half the bundles one process each, half in one call."""
    command = [sys.executable, "-m", "server.cli", "--data", str(data), "import-bundle"]
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    one_each, together = paths[: len(paths) // 2], paths[len(paths) // 2 :]
    start = time.perf_counter()
    for path in one_each:
        subprocess.run([*command, str(path)], check=True, capture_output=True, env=env)
    each_s = time.perf_counter() - start
    start = time.perf_counter()
    done = subprocess.run([*command, *map(str, together)], capture_output=True, env=env, text=True)
    together_s = time.perf_counter() - start
    out = {
        "cli_bundles_one_process_each": len(one_each),
        "cli_one_each_us_per_record": round(each_s / (len(one_each) * per_bundle) * 1e6, 1),
    }
    if done.returncode == 0:
        out["cli_bundles_in_one_call"] = len(together)
        out["cli_one_call_us_per_record"] = round(
            together_s / (len(together) * per_bundle) * 1e6, 1
        )
    else:
        out["cli_one_call"] = f"refused (exit {done.returncode}): {done.stderr.strip()[-200:]}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=200)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--cli", type=int, default=0, help="more bundles through the CLI")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bundles-") as tmp:
        figures = run(args.bundles, args.changes, Path(tmp), args.cli)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    records = figures["records_each_way"]
    print(
        f"{args.bundles} bundles x {args.changes} changes imported one after another, "
        f"{args.bundles} pushes of {args.changes} between them ({records} records each way)"
    )
    floor = figures["floor_us_per_record"]
    print(f"floor (sqlite3, {records} rows, one transaction): {floor} us/record")
    for kind in ("import", "push"):
        each, rate = figures[f"{kind}_us_per_record"], figures[f"{kind}_rec_per_s"]
        print(
            f"{kind}: {each} us/record, {rate} rec/s"
            f" ({figures[f'{kind}_x_floor']}x floor; CPU {figures[f'{kind}_cpu_s']} s)"
        )
    print(f"import / push per record: {figures['import_over_push']}")
    for key in [k for k in figures if k.startswith("cli_")]:
        print(f"{key}: {figures[key]}")


if __name__ == "__main__":
    main()
