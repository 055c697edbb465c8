"""Blocking functions handed to sorted/max/map/filter, a local helper def, a module-level alias
and a star import: each is offloaded without changing what the program prints."""
import asyncio
import os
import tempfile
import time
from os.path import *

_nap = time.sleep


async def main():
    d = tempfile.mkdtemp()
    names = []
    for i in range(3):
        p = os.path.join(d, f"f{i}.txt")
        with open(p, "w") as f:
            f.write("x" * (i + 1))
        names.append(p)

    def size_of(p):
        return os.path.getsize(p)

    _nap(0.01)
    ordered = sorted(names, key=os.path.getsize, reverse=True)
    biggest = max(names, key=lambda p: os.path.getsize(p))
    total = sum(map(os.path.getsize, names))
    existing = [n for n in filter(exists, names)]
    print([basename(o) for o in ordered], basename(biggest), total, len(existing), size_of(names[0]))


asyncio.run(main())
