"""Run child processes from coroutines with subprocess."""

import asyncio
import os
import subprocess
import sys

PY = sys.executable


async def run_child(code: str) -> str:
    done = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


async def main() -> None:
    print("run:", await run_child("print(6 * 7)"))
    out = subprocess.check_output([PY, "-c", "import sys; print(sys.stdin.read().upper())"], input=b"shout\n")
    print("check_output:", out.decode().strip())
    code = subprocess.call([PY, "-c", "raise SystemExit(3)"])
    print("call returned:", code)
    try:
        subprocess.run([PY, "-c", "raise SystemExit(5)"], check=True)
    except subprocess.CalledProcessError as err:
        print("CalledProcessError:", err.returncode)
    status = os.system(f"{PY} -c 'raise SystemExit(4)'")
    print("os.system exit code:", os.waitstatus_to_exitcode(status))
    results = await asyncio.gather(*(run_child(f"print({n} ** 2)") for n in range(3)))
    print("squares:", results)


if __name__ == "__main__":
    asyncio.run(main())
