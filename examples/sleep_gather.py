"""Three pollers share one event loop, but each one sleeps with `time.sleep`."""

import asyncio
import os
import time

SCRATCH = os.environ.get("UNBLOCK_SCRATCH", ".")


async def poller(name: str, ticks: int, log: list[str]) -> int:
    done = 0
    while done < ticks:
        time.sleep(0.01)
        done += 1
        log.append(f"{name}:{done}")
    return done


async def countdown(start: int) -> list[int]:
    seen = []
    while start > 0:
        seen.append(start)
        start -= 1
        time.sleep(0.005)
    return seen


async def main() -> None:
    log: list[str] = []
    totals = await asyncio.gather(poller("a", 3, log), poller("b", 2, log), countdown(3))
    print("totals:", totals)
    print("ticks logged:", len(log), sorted(log))


if __name__ == "__main__":
    asyncio.run(main())
