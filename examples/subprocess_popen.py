"""Child processes driven through subprocess.Popen handles from coroutines."""

import asyncio
import subprocess
import sys

PY = sys.executable
UPPER = "import sys; data = sys.stdin.read(); print(data.upper()); print('warn', file=sys.stderr)"


async def shout(text: str) -> tuple[int, str, str]:
    proc = subprocess.Popen(
        [PY, "-c", UPPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = proc.communicate(input=text)
    return proc.returncode, out, err


async def exit_code(code: int) -> int:
    proc = subprocess.Popen([PY, "-c", f"raise SystemExit({code})"])
    return proc.wait()


async def raw_bytes() -> bytes:
    proc = subprocess.Popen([PY, "-c", "print('bytes\\r\\nline')"], stdout=subprocess.PIPE)
    out, _ = proc.communicate()
    return out


async def main() -> None:
    code, out, err = await shout("quiet words\r\nand more\n")
    print("code:", code)
    print("out:", repr(out))
    print("err:", repr(err))
    print("exit codes:", await asyncio.gather(exit_code(0), exit_code(3)))
    print("raw:", await raw_bytes())


if __name__ == "__main__":
    asyncio.run(main())
