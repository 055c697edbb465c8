"""Run a Python program with blockbuster active from before it is loaded.

Usage: python run_blockbuster.py PROGRAM [ARGS...]

Any blocking call made on a running event loop's thread raises blockbuster.BlockingError.
"""

import runpy
import sys

from blockbuster import blockbuster_ctx

program = sys.argv[1]
sys.argv = sys.argv[1:]
with blockbuster_ctx():
    runpy.run_path(program, run_name="__main__")
