"""The real model on the dev half of the 2018 test set: a guard against retrieval regressions.
Floors sit a little under the measured values (docs/retrieval.md) so noise does not trip them."""
import pytest

from zhengce.paths import REPO_ROOT
from zhengce.eval.run import run_eval
from zhengce.eval.testset import DEFAULT_TESTSET


@pytest.mark.model
def test_hybrid_retrieval_on_dev_half(monkeypatch):
    monkeypatch.delenv("ZHENGCE_MODEL")  # the default model, not the fake one
    summary, results, meta = run_eval(DEFAULT_TESTSET, REPO_ROOT / "corpus", ["hybrid"], splits=("dev",))
    dev = summary["hybrid"]["dev"]
    # measured: hit@5 0.961, MRR@10 0.921, out-of-scope flagged 0.80, false flags 0.000
    assert dev["all"]["hit@5"] >= 0.93
    assert dev["all"]["mrr@10"] >= 0.88
    assert dev["english"]["hit@5"] >= 0.85
    assert dev["out_of_scope"]["oos_flagged"] >= 0.7
    assert dev["all"]["false_flags"] <= 0.05
    assert meta["embed_text"] == "text+sentences/3"
