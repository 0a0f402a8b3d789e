"""A bounded, seeded mutation run in the suite: every engine's inputs, made
hostile or broken by bench/fuzz_campaign.py's mutator, through ``wfconv
parse`` and ``wfconv convert``. No run may end in an internal error, and
every exit-2 message names the input. (bench/fuzz_campaign.py runs thousands
of inputs with time and memory limits; this is its quick regression guard.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INPUTS = 160
SEED = 15


def _campaign_module():
    spec = importlib.util.spec_from_file_location(
        "wfconv_fuzz_campaign", ROOT / "bench" / "fuzz_campaign.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fc = _campaign_module()


def test_the_mutator_is_seeded_and_mutates():
    text = (ROOT / "corpus" / "airflow" / "etl_basic.py").read_text()
    import random

    first = fc.mutate(text, random.Random("x"), xml=False)
    again = fc.mutate(text, random.Random("x"), xml=False)
    assert first == again
    assert first[0] != text.encode()


@pytest.mark.parametrize("chunk", range(4))
def test_mutated_inputs_give_no_internal_error(tmp_path, monkeypatch, chunk):
    # A module that loops at import is stopped after 3 s: that bound is
    # what holds it, not this test's patience.
    monkeypatch.setenv("WFCONV_LUIGI_TIMEOUT", "3")
    seeds = fc.seeds()
    problems = []
    for index in range(chunk, INPUTS, 4):
        case, path = fc.make_input(index, seeds, SEED, tmp_path)
        for args in fc.commands(path, case.target, tmp_path / f"out{index}")[:2]:
            r = fc.run_one(args)
            if r["internal"] or (r["exit"] == 2 and not r["located"]) or r["exit"] not in (0, 1, 2):
                problems.append((index, case.seed.path.name, case.operators, args[0], r))
    assert not problems, problems
