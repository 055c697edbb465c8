"""The project's own sync functions, called from coroutines (UNB180): the blocking is one
call away, in a helper of the same module or a method reached through `self`."""

import asyncio
import json
import os
import time


def scratch(name):
    return os.path.join(os.environ.get("UNBLOCK_SCRATCH", "."), name)


def save_report(name, data):
    with open(scratch(name), "w") as f:
        json.dump(data, f)
    return name


def load_report(name):
    with open(scratch(name)) as f:
        return json.load(f)


def slow_square(x):
    time.sleep(0.01)
    return x * x


def summary(name):
    # Blocks only through `load_report`.
    data = load_report(name)
    return f"{len(data)} keys: {', '.join(sorted(data))}"


class Ledger:
    def __init__(self, name):
        self.name = name
        self.entries = []

    def append(self, value):
        self.entries.append(value)
        save_report(self.name, {"entries": self.entries})

    async def record(self, value):
        self.append(value)
        await asyncio.sleep(0)
        return len(self.entries)


async def main():
    save_report("report.json", {"a": 1, "b": 2})
    print(f"summary: {summary('report.json')}")
    squares = [slow_square(x) for x in range(3)]
    print("squares", squares)
    ledger = Ledger("ledger.json")
    for v in (3, 5):
        print("entries", await ledger.record(v))
    print("ledger", load_report("ledger.json"))


asyncio.run(main())
