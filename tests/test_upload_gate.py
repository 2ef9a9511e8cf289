"""The upload gate: at most `limit` multipart requests are read at once in a process; other requests pass."""

from __future__ import annotations

import asyncio

from contest.web.gate import UploadGate


def test_multipart_posts_wait_their_turn_and_nothing_else_waits():
    inside, most, order = [0], [0], []
    release = asyncio.Event

    async def scenario():
        opened = release()

        async def app(scope, receive, send):
            kind = scope["path"]
            if kind.startswith("/upload"):
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                await opened.wait()
                inside[0] -= 1
            order.append(kind)

        gate = UploadGate(app, limit=2)

        def scope(path, content_type):
            return {"type": "http", "method": "POST", "path": path, "headers": [(b"content-type", content_type)]}

        uploads = [asyncio.create_task(gate(scope(f"/upload{i}", b"multipart/form-data; boundary=x"), None, None))
                   for i in range(5)]
        await asyncio.sleep(0.01)
        # a click (a form post) and a page pass while five uploads are queued at the gate
        await asyncio.wait_for(gate(scope("/click", b"application/x-www-form-urlencoded"), None, None), 1)
        await asyncio.wait_for(gate({"type": "http", "method": "GET", "path": "/page", "headers": []}, None, None), 1)
        assert order == ["/click", "/page"] and inside[0] == 2
        opened.set()
        await asyncio.wait_for(asyncio.gather(*uploads), 1)

    asyncio.run(scenario())
    assert most[0] == 2 and sorted(order) == sorted(["/click", "/page"] + [f"/upload{i}" for i in range(5)])
