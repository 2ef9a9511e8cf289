"""Entries uploaded while a quiz round takes saves: posters sent from many phones at once must not slow the
answers of the contestants sitting the quiz.

Set-up (not measured): a fresh var dir holding the demo database (`contest migrate && contest demo`), an entry
round in the demo's open contest (posters as .png or .jpg up to `--mb` + 1 MB, one file an entry), `--entries`
contestants registered to send one entry each and `--saving` contestants (default 1,000) to save answers, the
real server (`contest serve`, `--workers`, default 2), and each saving contestant's attempt started
(bench/saving.py).

Measured: `--phones` phones (default 200) send the entries, each phone one after the other from a shared queue
until all `--entries` (default 2,000) are sent: a multipart form with a short text and a PNG poster of `--mb`
megabytes (default 5; each poster's pixel data differs, so no two are the same file), as the entry page's form
posts it. Meanwhile the saving contestants keep saving, one answer after each think time (uniform 0..2 x
`--save-think`, default 5 s). Reported: uploads answered, MB/s, p50/p95/p99/max of an upload; the saves' figures;
errors; afterwards, from the database and the storage folder, entries acknowledged against stored (a version
row and its file on disk: lost must be 0) and saves acknowledged against stored; server CPU and its processes'
peak RSS.

Targets on a 2-core machine: 0 errors, 0 lost, saves' p99 < 100 ms while the uploads go on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import struct
import tempfile
import time
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.attempts import SLUG, Load, cpu_seconds, latency, own_cpu, register
from bench.http import Client, HTTPError, event_loop_runner
from bench.saving import TARGET_SAVE_P99_MS, Saving, contestants
from bench.server import Server
from contest.db import Database, migrate
from contest.entries.files import stored_path
from contest.demo import load_demo

MB = 1024 * 1024
BOUNDARY = "----bench-entry-boundary-7MA4YWxkTrZu0gW"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench uploads", description=__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=2000, help="entries sent, one each (default 2000)")
    p.add_argument("--mb", type=float, default=5.0, help="megabytes of each poster (default 5)")
    p.add_argument("--phones", type=int, default=200, help="phones sending at once (default 200)")
    p.add_argument("--saving", type=int, default=1000,
                   help="contestants of the open demo contest saving answers meanwhile (default 1000; 0: none)")
    p.add_argument("--save-think", type=float, default=5.0,
                   help="mean seconds between a contestant's saves, uniform 0..2x (default 5)")
    p.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    p.add_argument("--timeout", type=float, default=1800.0, help="time limit of the measured phase, s (default 1800)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON to this file")
    return p.parse_args(argv)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


class Posters:
    """PNG posters of a given size, each unique: one block of random pixel data whose last 8 bytes are the
    poster's number. Each poster is a list of pieces sent one after the other: the big block is shared, and the
    CRC of its chunk is carried on from the block's (zlib.crc32's running value), so making a poster costs the
    load generator next to nothing whatever its size (the posters' cost belongs to the server)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1200, 1700, 8, 2, 0, 0, 0))
        self.pixels = rng.randbytes(max(size - 72, 1024))
        self.length = struct.pack(">I", len(self.pixels) + 8) + b"IDAT"
        self.crc = zlib.crc32(self.pixels, zlib.crc32(b"IDAT"))
        self.tail = _chunk(b"IEND", b"")

    def poster(self, n: int) -> list[bytes]:
        number = n.to_bytes(8, "big")
        return [self.head + self.length, self.pixels,
                number + struct.pack(">I", zlib.crc32(number, self.crc)) + self.tail]


def multipart(token: str, text: str, filename: str, data: list[bytes]) -> list[bytes]:
    """The entry form as a browser posts it: the form token, the text, an empty video link and the poster."""
    parts = []
    for name, value in (("_csrf_token", token), ("text", text), ("video_url", "")):
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                 f'Content-Type: image/png\r\n\r\n'.encode())
    return [b"".join(parts), *data, f"\r\n--{BOUNDARY}--\r\n".encode()]


def entry_round(database: Path, mb: float) -> int:
    """An entry round in the demo's open contest, open now for a day; its number."""
    from contest.entries import rounds
    from contest.models import Contest, Round

    db = Database(f"sqlite:///{database}")
    now = datetime.now(timezone.utc)
    try:
        with db.write_session() as session:
            from sqlalchemy import func, select

            contest = session.scalar(select(Contest).where(Contest.slug == SLUG))
            number = (session.scalar(select(func.max(Round.number)).where(Round.contest_id == contest.id)) or 0) + 1
            rounds.save_entry_round(session, contest=contest, now=now - timedelta(hours=2), round_=None,
                                    number=number, title="Sáng tác tranh cổ động (đo hiệu năng)",
                                    opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
                                    rules=rounds.EntryRules(file_kinds=("png", "jpg"), max_files=1,
                                                            max_file_mb=int(mb) + 1))
            return number
    finally:
        db.dispose()


class Senders:
    """The phones sending entries, and what they measured."""

    def __init__(self, port: int, secret_key: str, people: list[tuple[int, int]], number: int,
                 posters: Posters) -> None:
        self.port, self.number, self.posters = port, number, posters
        self.load = Load(port, 0)  # its forged sign-ins
        self.people = [self.load.signed_in(secret_key, contest_id, contestant_id)
                       for contest_id, contestant_id in people]
        self.ids = [contestant_id for _, contestant_id in people]
        self.latency: list[float] = []
        self.window = (0.0, 0.0)
        self.errors: Counter[str] = Counter()
        self.acknowledged: set[int] = set()
        self.sent_bytes = 0

    async def send(self, phones: int) -> None:
        queue = list(range(len(self.people)))
        queue.reverse()
        first = [time.perf_counter()]

        async def phone() -> None:
            client = Client("127.0.0.1", self.port, 1, timeout=300.0)
            try:
                while queue:
                    i = queue.pop()
                    who = self.people[i]
                    body = multipart(who["token"], f"Bài dự thi số {i}: tranh cổ động về cải cách hành chính.",
                                     f"tranh-{i}.png", self.posters.poster(i))
                    cookies = "; ".join(f"{k}={v}" for k, v in who["jar"].items())
                    began = time.perf_counter()
                    try:
                        reply = await client.request(
                            "POST", f"/c/{SLUG}/bai-du-thi/{self.number}", headers={"Cookie": cookies},
                            body=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
                    except HTTPError as exc:
                        self.errors[f"upload: {str(exc).split(':')[0]}"] += 1
                        continue
                    self.latency.append(time.perf_counter() - began)
                    self.sent_bytes += sum(len(piece) for piece in body)
                    if reply.status_code == 303:
                        self.acknowledged.add(self.ids[i])
                    else:
                        self.errors[f"upload: HTTP {reply.status_code}"] += 1
            finally:
                await client.aclose()

        await asyncio.gather(*(phone() for _ in range(phones)))
        self.window = (first[0], time.perf_counter())


def stored_entries(database: Path, storage: Path, number: int) -> dict:
    """Entries with a version in the database, and how many of their files are on disk."""
    with sqlite3.connect(database) as con:
        rows = con.execute(
            "SELECT e.contestant_id, f.sha256, f.kind FROM entries e JOIN rounds r ON r.id = e.round_id "
            "JOIN contests c ON c.id = r.contest_id JOIN entry_versions v ON v.entry_id = e.id "
            "JOIN entry_files f ON f.version_id = v.id WHERE c.slug = ? AND r.number = ?", (SLUG, number)).fetchall()
    con.close()
    on_disk = sum(1 for _, sha, kind in rows if stored_path(storage, sha, kind).is_file())
    return {"contestants": {contestant for contestant, _, _ in rows}, "files": len(rows), "on_disk": on_disk}


def peak_rss_mb(pid: int) -> float:
    """The largest peak RSS among the server's processes (VmHWM), in MB."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            if int(entry.name) == pid or parent == pid:
                peaks.append(int(next(line.split()[1] for line in status.splitlines()
                                      if line.startswith("VmHWM:"))) / 1024)
        except (OSError, StopIteration, ValueError):
            continue
    return round(max(peaks, default=0.0), 1)


async def drive(args, server: Server, secret_key: str, senders: Senders, saving_ids) -> tuple[dict, Saving | None]:
    savers = (Saving(server.port, secret_key, saving_ids, args.save_think, random.Random(f"saving-{args.seed}"))
              if saving_ids else None)
    try:
        if savers:
            began = time.perf_counter()
            await asyncio.wait_for(savers.open(), args.timeout)
            print(f"set-up: {len(savers.sheets):,} attempts opened in {time.perf_counter() - began:.0f} s", flush=True)
        stop = asyncio.Event()
        keeping = asyncio.create_task(savers.keep(stop)) if savers else None
        load_average = round(os.getloadavg()[0], 2)
        server_before, client_before, began = cpu_seconds(server.process.pid), own_cpu(), time.perf_counter()
        try:
            await asyncio.wait_for(senders.send(args.phones), args.timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"the uploads did not finish within {args.timeout:g} s") from None
        finally:
            stop.set()
            if keeping:
                await keeping
        wall = time.perf_counter() - began
        server_cpu = sum(s - server_before.get(p, 0.0) for p, s in cpu_seconds(server.process.pid).items())
        return {"load_average_before": load_average, "wall_s": round(wall, 1), "server_cpu_s": round(server_cpu, 2),
                "load_generator_cpu_s": round(own_cpu() - client_before, 2),
                "server_peak_rss_mb": peak_rss_mb(server.process.pid)}, savers
    finally:
        if savers:
            await savers.close()


def main(argv: list[str] | None = None) -> bool:
    args = parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as tmp:
        tmp = Path(tmp)
        database, log, storage = tmp / "contest.db", tmp / "server.log", tmp / "entries"
        url = f"sqlite:///{database}"
        env = {**os.environ, "CONTEST_VAR_DIR": str(tmp), "DATABASE_URL": url, "CONTEST_ENTRIES_DIR": str(storage),
               "SECRET_KEY": "bench-" + "k" * 40, "CONTEST_HOST": "127.0.0.1"}
        migrate(url)
        db = Database(url)
        try:
            load_demo(db, now=datetime.now(timezone.utc), simulated=100)
        finally:
            db.dispose()
        number = entry_round(database, args.mb)
        saving_ids = contestants(database, args.saving)
        entrants: list[tuple[int, int]] = []
        register(database, args.entries, entrants, first=args.saving)
        posters = Posters(int(args.mb * MB), random.Random(args.seed))
        print(f"set-up: demo loaded, entry round {number}, {len(entrants):,} contestants to send an entry of "
              f"{args.mb:g} MB, {len(saving_ids):,} to save meanwhile; starting the server", flush=True)
        server = Server(env, log, workers=args.workers)
        try:
            server.start()
            senders = Senders(server.port, env["SECRET_KEY"], entrants, number, posters)
            with event_loop_runner() as runner:
                raw, savers = runner.run(drive(args, server, env["SECRET_KEY"], senders, saving_ids))
        finally:
            server.stop()
        saves = savers.figures(url) if savers else None
        stored = stored_entries(database, storage, number)
        lines = [line for line in log.read_text(errors="replace").strip().splitlines()
                 if not line.startswith("Serving on ")]
        if lines:
            print("server log (last lines):\n  " + "\n  ".join(lines[-15:]))
    uploads = latency(senders.latency, senders.window)
    lost_entries = len(senders.acknowledged - stored["contestants"]) + (stored["files"] - stored["on_disk"])
    errors = sum(senders.errors.values()) + (sum(saves["errors"].values()) if saves else 0)
    lost = lost_entries + (saves["saves"]["lost"] if saves else 0)
    result = {"entries": args.entries, "mb": args.mb, "phones": args.phones, "server_workers": args.workers,
              **raw, "uploads": uploads,
              "upload_mb_per_s": round(senders.sent_bytes / MB / max(raw["wall_s"], 1e-9), 1),
              "entries_acknowledged": len(senders.acknowledged), "entries_stored": len(stored["contestants"]),
              "files_on_disk": stored["on_disk"], "entries_lost": lost_entries, "upload_errors": dict(senders.errors),
              "saving": saves, "errors": errors, "lost": lost,
              "targets": {"errors": 0, "lost": 0, "save_p99_ms": f"< {TARGET_SAVE_P99_MS}"}}
    result["correct"] = errors == 0 and lost == 0
    result["targets_met"] = result["correct"] and (saves is None or saves["save"]["p99_ms"] < TARGET_SAVE_P99_MS)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result["correct"]


def print_report(r: dict) -> None:
    u = r["uploads"]
    print(f"{r['entries']:,} entries of {r['mb']:g} MB from {r['phones']} phones at once; server workers "
          f"{r['server_workers']}; {os.cpu_count()} cores, load average before {r['load_average_before']}")
    print(f"uploads: {u['requests']:,} in {r['wall_s']} s ({r['upload_mb_per_s']} MB/s); p50 {u['p50_ms']} ms, "
          f"p95 {u['p95_ms']} ms, p99 {u['p99_ms']} ms, max {u['max_ms']} ms; errors: {r['upload_errors'] or 0}")
    print(f"entries acknowledged {r['entries_acknowledged']:,}, stored {r['entries_stored']:,}, files on disk "
          f"{r['files_on_disk']:,}, lost {r['entries_lost']}")
    saving = r["saving"]
    if saving:
        s = saving["save"]
        print(f"saves meanwhile: {s['requests']:,} answered, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max "
              f"{s['max_ms']} ms; acknowledged {saving['saves']['acknowledged']:,}, stored {saving['saves']['found']:,},"
              f" lost {saving['saves']['lost']}; errors: {saving['errors'] or 0}")
    print(f"server CPU {r['server_cpu_s']} s, peak RSS of a server process {r['server_peak_rss_mb']} MB; load "
          f"generator CPU {r['load_generator_cpu_s']} s")
    shown = {True: "met", False: "MISSED"}
    print(f"targets: 0 errors, 0 lost: {shown[r['correct']]}; saves p99 < {TARGET_SAVE_P99_MS} ms while uploading: "
          f"{shown[r['targets_met']] if saving else 'not measured'}")
