"""`python -m gongzhi`: the `gongzhi` command (gongzhi.cli)."""

import sys

from gongzhi.cli import main

if __name__ == "__main__":
    sys.exit(main())
