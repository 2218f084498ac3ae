import os
import sys
import tempfile
from pathlib import Path

# tests/strategies.py is a helper module, not a test file.
sys.path.insert(0, str(Path(__file__).parent))

# Keep the compiled-rule cache of a test run out of the user's home (subprocesses inherit it).
os.environ.setdefault("XUEJI_POLICY_CACHE_DIR", tempfile.mkdtemp(prefix="xueji-policy-cache-"))
