"""``python -m wfconv.codes --write-docs``: regenerate the code tables of docs/."""

import sys
from pathlib import Path

from wfconv.codes.docs import write_docs

if __name__ == "__main__":
    if sys.argv[1:] != ["--write-docs"]:
        sys.exit("usage: python -m wfconv.codes --write-docs  (from the repository root)")
    for page in write_docs(Path.cwd()):
        print(f"wrote {page}")
