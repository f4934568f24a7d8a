import sys
from pathlib import Path

# openapi_build.py (the document's builder) lives in scripts/: it writes into Sources/.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
