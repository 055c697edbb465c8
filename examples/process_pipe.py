"""A child process whose output is read from its pipe: the start and the reads go to one
helper, never the start alone (the reads would stall the loop)."""

import asyncio
import subprocess
import sys

PY = sys.executable
COUNT = "import sys\nfor i in range(3): print('line', i)\nsys.stdout.flush()"


async def lines_of_child(label: str) -> list[str]:
    await asyncio.sleep(0)
    proc = subprocess.Popen([PY, "-c", COUNT], stdout=subprocess.PIPE, text=True)
    got = [f"{label}:{line.strip()}" for line in proc.stdout]
    proc.wait()
    await asyncio.sleep(0)
    return got


async def first_line(label: str) -> str:
    proc = subprocess.Popen([PY, "-c", COUNT], stdout=subprocess.PIPE, text=True)
    head = proc.stdout.readline().strip()
    proc.stdout.read()
    proc.wait()
    await asyncio.sleep(0)
    return f"{label}:{head}"


async def main() -> None:
    print(await lines_of_child("a"))
    print(await first_line("b"))


if __name__ == "__main__":
    asyncio.run(main())
