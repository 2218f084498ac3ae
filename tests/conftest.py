import sys
from pathlib import Path

# tests/strategies.py is a helper module, not a test file.
sys.path.insert(0, str(Path(__file__).parent))
