"""A CSV export whose header is chosen in an enclosing `if`, and a running total carried
from one turn of a loop to the next: the helper must be given both."""

import asyncio
import csv
import os

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")


async def export(rows: list[list[str]], path: str, title: str) -> None:
    if rows:
        header = title.upper()
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([header])
            writer.writerows(rows)
    await asyncio.sleep(0)


async def running_lengths(paths: list[str]) -> list[int]:
    seen = 0
    lengths = []
    for path in paths:
        if path:
            with open(path, newline="") as f:
                seen = seen + len(list(csv.reader(f)))
        lengths.append(seen)
        await asyncio.sleep(0)
    return lengths


async def main() -> None:
    first = os.path.join(SCRATCH, "first.csv")
    second = os.path.join(SCRATCH, "second.csv")
    await export([["a", "1"], ["b", "2"]], first, "fruit")
    await export([["c", "3"]], second, "veg")
    print("lengths:", await running_lengths([first, "", second]))


if __name__ == "__main__":
    asyncio.run(main())
