"""`python tests/fake_cli.py ARGS…` runs the zhengce command with the fake embedder installed, for tests
that need a real process (Ctrl+C, stdout of the main job) but not the model."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fakes  # noqa: E402

from zhengce.cli import main  # noqa: E402

fakes.install()
sys.exit(main())
