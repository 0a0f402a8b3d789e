"""Async flows and tasks: a coroutine runs when awaited; asyncio.gather
over a literal comprehension runs its tasks concurrently; gather over a
computed list cannot be unrolled statically (diagnostic)."""

import asyncio

from prefect import flow, task

ENDPOINTS = ["users", "orders", "invoices"]


@task(retries=3, retry_delay_seconds=2)
async def download(endpoint: str) -> bytes:
    return b""


@task
async def parse(payload: bytes) -> list:
    return []


@task
def count(batches: list) -> int:
    return len(batches)


@task
async def list_pages() -> list[int]:
    return [1, 2]


@task
async def fetch_page(page: int) -> bytes:
    return b""


@flow
async def api_sync():
    payloads = await asyncio.gather(*[download(e) for e in ENDPOINTS])
    parsed = await asyncio.gather(*[parse(p) for p in payloads])
    total = count(parsed)
    pages = await list_pages()
    await asyncio.gather(*[fetch_page(p) for p in pages])
    await notify_done(total)


@flow(name="notify-done")
async def notify_done(total: int):
    await asyncio.sleep(0)
