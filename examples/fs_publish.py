"""Publish a build folder with os, shutil and glob calls inside a coroutine."""

import asyncio
import glob
import os
import shutil
from os import listdir

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
BUILD = os.path.join(SCRATCH, "build")
os.makedirs(BUILD, exist_ok=True)
for name in ["index.html", "app.js", "style.css"]:
    with open(os.path.join(BUILD, name), "w") as out:
        out.write(name.upper())


async def publish(dest: str) -> list[str]:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(BUILD, dest)
    os.makedirs(os.path.join(dest, "assets"), exist_ok=True)
    shutil.copy(os.path.join(dest, "app.js"), os.path.join(dest, "assets", "app.js"))
    os.rename(os.path.join(dest, "style.css"), os.path.join(dest, "site.css"))
    return sorted(listdir(dest))


async def main() -> None:
    dest = os.path.join(SCRATCH, "public")
    print("published:", await publish(dest))
    print("first entry:", sorted(os.listdir(dest))[0])
    print("html files:", [os.path.basename(p) for p in sorted(glob.glob(os.path.join(dest, "*.html")))])
    print("only html file:", os.path.basename(glob.glob(os.path.join(dest, "*.html"))[0]))
    print("app.js bytes:", os.stat(os.path.join(dest, "assets", "app.js")).st_size)
    os.remove(os.path.join(dest, "site.css"))
    print("after removal:", len(os.listdir(dest)), "entries")


if __name__ == "__main__":
    asyncio.run(main())
