"""Notes kept in text files: read, write then read, readline/readlines, two files at once."""

import asyncio
import os

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")
NOTES = os.path.join(SCRATCH, "notes.txt")
with open(NOTES, "w", encoding="utf-8") as seed:
    seed.write("first line\nsecond line\nthird line, café\n")


async def read_all(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


async def append_and_count(path: str, extra: list[str]) -> int:
    with open(path, "a", encoding="utf-8", newline="\n") as out:
        out.writelines(extra)
        out.flush()
    with open(path, encoding="utf-8") as f:
        head = f.readline()
        rest = f.readlines()
    return len(rest) + (1 if head else 0)


async def shout_copy(src: str, dst: str) -> None:
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        fout.write(fin.read().upper())


async def read_or_default(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return "<missing>"


async def main() -> None:
    print(repr(await read_all(NOTES)))
    print("lines now:", await append_and_count(NOTES, ["fourth\n", "fifth\n"]))
    copy = os.path.join(SCRATCH, "NOTES.txt")
    await shout_copy(NOTES, copy)
    print(await read_all(copy), end="")
    print(await read_or_default(os.path.join(SCRATCH, "absent.txt")))


if __name__ == "__main__":
    asyncio.run(main())
