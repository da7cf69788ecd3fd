"""The same seed gives the same report.json: in fresh processes with an empty and with a warm
classifier cache, and whatever random draws came before in the same process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

import ganlens

SCRIPT = """
import json, sys, torch
import ganlens
torch.manual_seed(int(sys.argv[3]))  # the caller's random state before the run
torch.rand(int(sys.argv[3]) % 97 + 1)
report = ganlens.analyze(sys.argv[1], analyzers=["mode_collapse", "samples"], real="digits",
                         samples=150, seed=4, progress=False,
                         options={"mode_collapse": {"bootstrap": 20, "figures": False}})
json.dump(report.to_dict(with_timing=False), open(sys.argv[2], "w"), sort_keys=True)
"""


def _numbers(doc: dict) -> str:
    doc = dict(doc)
    meta = dict(doc["metadata"])
    meta.pop("timings", None)
    doc["metadata"] = meta
    return json.dumps(doc, sort_keys=True)


def test_same_report_with_an_empty_and_a_warm_cache_in_fresh_processes(digits_run, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "GANLENS_CACHE_DIR": str(cache), "GANLENS_NO_PROGRESS": "1"}
    docs = []
    for i, state in enumerate((0, 0, 12345)):  # empty cache, warm cache, warm and other state
        out = tmp_path / f"run{i}.json"
        subprocess.run([sys.executable, "-c", SCRIPT, str(digits_run.checkpoint), str(out),
                        str(state)], env=env, check=True, timeout=300)
        docs.append(json.loads(out.read_text()))
        if i == 0:
            assert list((cache / "classifiers").glob("*.pt")), "the first run fills the cache"
    mc = docs[0]["sections"][0]
    assert mc["name"] == "mode_collapse" and "classes_covered" in mc["metrics"]
    assert _numbers(docs[0]) == _numbers(docs[1]) == _numbers(docs[2])


def test_the_classifier_does_not_depend_on_or_move_the_global_random_state(digits):
    from ganlens.builtin.classifier import train_classifier

    small = digits.subset(torch.arange(400))
    torch.manual_seed(1)
    a = train_classifier(small)
    after_a = torch.rand(3)
    torch.manual_seed(2)
    torch.rand(50)
    b = train_classifier(small)
    torch.manual_seed(1)
    assert torch.equal(torch.rand(3), after_a)  # training left the caller's stream alone
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    assert ganlens.__version__  # the public package imports alongside the internal module


def test_cross_fitted_labels_come_from_a_classifier_that_never_saw_the_sample(digits):
    """With labels that carry no information (shuffled), a classifier can only be right on the
    samples it memorised: the one that trained on them agrees with their labels well above
    chance, the cross-fitted labels do not (ten classes: chance is 0.1)."""
    from ganlens.builtin import classifier as C

    small = digits.subset(torch.arange(600))
    g = torch.Generator().manual_seed(0)
    noise = small.subset(torch.arange(600))
    noise.labels = small.labels[torch.randperm(600, generator=g)]
    models, unseen_acc = C._cross_fit(noise, torch.device("cpu"), None, "test")
    folds = C.fold_of(noise.x)
    assert 200 < int((folds == 0).sum()) < 400  # a balanced split
    assert torch.equal(C.fold_of(noise.x[:50]), folds[:50])  # the same row, the same fold
    with torch.no_grad():
        seen = torch.cat([models[f](noise.x[folds == f]).argmax(1) == noise.labels[folds == f]
                          for f in (0, 1)]).float().mean()
    clf = C.Classifier(models[0], 1.0, 10, [str(i) for i in range(10)], torch.device("cpu"),
                       cross_fit=lambda: (models, unseen_acc))
    unseen = (clf.predict_unseen(noise.x) == noise.labels).float().mean()
    assert float(seen) > 0.3 and float(unseen) < 0.2, (float(seen), float(unseen))
    assert abs(clf.unseen_accuracy - float(unseen)) < 0.02
