"""A small sqlite3 store used from async code: the connection must stay in one thread."""

import asyncio
import os
import sqlite3

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")


class Store:
    def __init__(self, path: str) -> None:
        self.path = path

    async def create(self) -> None:
        conn = sqlite3.connect(self.path)
        conn.execute("create table if not exists fruit (name text primary key, count integer)")
        conn.commit()
        conn.close()

    async def add(self, rows: list[tuple[str, int]]) -> int:
        conn = sqlite3.connect(self.path)
        cur = conn.cursor()
        cur.executemany("insert or replace into fruit values (?, ?)", rows)
        conn.commit()
        added = cur.rowcount
        conn.close()
        return added

    async def report(self) -> list[str]:
        conn = sqlite3.connect(self.path)
        lines = [f"{name}={count}" for name, count in conn.execute("select * from fruit order by name")]
        conn.close()
        return lines


async def main() -> None:
    store = Store(os.path.join(SCRATCH, "store.db"))
    await store.create()
    print("added:", await store.add([("apples", 3), ("pears", 5)]))
    print("added:", await store.add([("plums", 2)]))
    print("report:", await store.report())


if __name__ == "__main__":
    asyncio.run(main())
