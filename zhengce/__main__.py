"""python -m zhengce …: the same as the zhengce command."""
import sys

from zhengce.cli import main

sys.exit(main())
