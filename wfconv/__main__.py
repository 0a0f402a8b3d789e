"""``python -m wfconv`` is the ``wfconv`` command."""

from wfconv.cli import main

main(prog_name="wfconv")
