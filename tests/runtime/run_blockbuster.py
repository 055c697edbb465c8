"""Run a Python program with blockbuster active from before it is loaded.

Usage: python run_blockbuster.py PROGRAM [ARGS...]

Any blocking call made on a running event loop's thread raises blockbuster.BlockingError.

Libraries whose *import* does blocking I/O are imported first, before blockbuster starts
watching: httpx imports its optional trio backend lazily on the first request, and importing
trio runs `ldconfig`. That is one-time import work of the library, not blocking done by the
program (applications pre-import such modules at start-up for the same reason).
"""

import importlib
import os
import runpy
import sys

from blockbuster import blockbuster_ctx

for module in ("httpx", "httpcore", "anyio", "trio", "aiofiles"):
    try:
        importlib.import_module(module)
    except ImportError:
        pass

program = sys.argv[1]
sys.argv = sys.argv[1:]
# As `python PROGRAM` would: the program's folder comes first on the import path.
sys.path.insert(0, os.path.dirname(os.path.abspath(program)))
with blockbuster_ctx():
    runpy.run_path(program, run_name="__main__")
