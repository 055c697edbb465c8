"""A CSV report and a text summary written with print(file=...): helper functions."""

import asyncio
import csv
import os

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
ROWS = [("apples", 3), ("pears", 5), ("plums", 2)]


async def write_report(path: str, rows: list[tuple[str, int]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["fruit", "count"])
        writer.writerows(rows)


async def read_report(path: str) -> dict[str, int]:
    totals = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            totals[row["fruit"]] = int(row["count"])
    return totals


async def write_summary(path: str, totals: dict[str, int]) -> None:
    with open(path, "w") as f:
        for fruit, count in sorted(totals.items()):
            print(f"{fruit:>8}: {'#' * count}", file=f)


async def main() -> None:
    report = os.path.join(SCRATCH, "report.csv")
    await write_report(report, ROWS)
    totals = await read_report(report)
    print("totals:", totals)
    summary = os.path.join(SCRATCH, "summary.txt")
    await write_summary(summary, totals)
    with open(summary) as f:
        print(f.read(), end="")


if __name__ == "__main__":
    asyncio.run(main())
