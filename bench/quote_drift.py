"""Quote latency drift: does a quote take longer as quotes pile up in one service?

The app in process (TestClient) on a temporary SQLite file with ``--buses`` demo buses and a clock that
stands at 07:00 on 23 November 2026, so no offer expires during the run: one rider asks ``--blocks``
blocks of ``--per-block`` quotes (trips from :func:`bench.live.trip`, never booked), and the p50/p99 of
each block are printed with the open offers after it. A flat series means the cost of a quote does not
grow with the offers still open (it did, until expired offers were forgotten from the oldest:
:mod:`dispatch.open_offers`).

    python bench/quote_drift.py --blocks 8 --per-block 300 --json bench/out/quote_drift.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.settings import Settings
from bench.live import percentiles, trip

ZONE = ZoneInfo("Europe/Vaduz")
MOMENT = datetime(2026, 11, 23, 7, 0, tzinfo=ZONE)


def run(blocks: int, per_block: int, buses: int) -> list[dict]:
    """Each block's p50/p95/p99 and the offers open after it."""
    with tempfile.TemporaryDirectory(prefix="rufbus-drift-") as directory:
        settings = Settings(database_url=f"sqlite:///{directory}/drift.sqlite3", demo_buses=buses,
                            quote_rate_per_account="", quote_rate_per_address="")
        app = create_app(settings, clock=ServiceClock(ZONE, lambda: MOMENT))
        rows = []
        with TestClient(app) as client:
            with Session(app.state.engine) as session:
                rider = {"Authorization": f"Bearer {create_user(session, name='drift', role='rider')[1]}"}
            for block in range(blocks):
                samples = []
                for k in range(per_block):
                    started = time.perf_counter()
                    answer = client.post("/v1/quotes", json=trip(block * per_block + k), headers=rider)
                    samples.append(time.perf_counter() - started)
                    assert answer.status_code in (200, 409), answer.text
                rows.append({"block": block, "quotes_before": block * per_block, **percentiles(samples),
                             "open_quotes": len(app.state.dispatch.quotes)})
                print(json.dumps(rows[-1]), flush=True)
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--per-block", type=int, default=300)
    parser.add_argument("--buses", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    rows = run(args.blocks, args.per_block, args.buses)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
