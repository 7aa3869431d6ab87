import os
import sys
from pathlib import Path

# Tests run on the CPU, quietly; subprocess tests set their own device counts.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
