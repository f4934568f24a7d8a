import sys
from pathlib import Path

# openapi_build.py (the document's builder) lives next to these tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
