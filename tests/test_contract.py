"""The contract, for every registered analyzer (built-in or installed), timm-style: on tiny GANs
(image and vector data, with and without a discriminator, with and without real data) each returns
a Section or a clean skip, leaves no hooks behind, and gives the same numbers for the same seed."""

from __future__ import annotations

import pytest

from ganlens import make_host as get_host
from ganlens import testing

ANALYZERS = sorted(get_host().analyzers)

CASES = {
    "image+D+real": lambda: (testing.tiny_image_gan(), testing.random_images(96, classes=3)),
    "image-alone": lambda: (testing.tiny_image_gan(discriminator=False), None),
    "vector+D+real": lambda: (testing.tiny_vector_gan(), testing.random_vectors(96)),
    "vector-alone": lambda: (testing.tiny_vector_gan(discriminator=False), None),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", ANALYZERS)
def test_contract(name, case):
    gan, real = CASES[case]()
    analyzer = get_host().analyzers[name].obj
    section = testing.check_analyzer_contract(analyzer, gan, real, samples=48)
    assert section.name == name
    if section.status == "ok":
        for fig in section.figures:
            assert fig.png.startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ANALYZERS)
def test_options_agree_in_python_the_cli_and_the_docs(name, capsys):
    """Every option is documented in the analyzer's README; every declared bound is listed by
    ``ganlens plugins --json`` and refused the same way from Python and from ``--option``."""
    import inspect
    import json
    from pathlib import Path

    from ganlens import cli
    from ganlens.core.analyzer import BOUNDS_KEY
    from ganlens.errors import OptionError

    cls = get_host().analyzers[name].obj
    pkg = Path(inspect.getfile(cls)).parent
    readme = pkg / "README.md" if (pkg / "README.md").exists() else pkg.parent / "README.md"
    text = readme.read_text()
    undocumented = [f for f in cls.option_fields() if f not in text]
    assert undocumented == [], f"{readme} does not mention {undocumented}"

    assert cli.main(["plugins", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["analyzers"]}
    listed = {o["name"]: o["bounds"] for o in rows[name]["options"]}
    assert set(listed) == set(cls.option_fields())
    for field in cls.option_fields().values():
        bounds = field.metadata.get(BOUNDS_KEY)
        assert listed[field.name] == (bounds.describe() if bounds else None)
        if bounds is None:
            continue
        bad = (bounds.ge - 1 if bounds.ge is not None else bounds.gt if bounds.gt is not None
               else bounds.le + 1 if bounds.le is not None else bounds.lt)
        is_list = callable(field.default_factory) and isinstance(field.default_factory(), list)
        value = [bad] if is_list else bad
        with pytest.raises(OptionError) as from_python:
            cls(**{field.name: value})
        text_value = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        assert f"option {name}.{field.name}: expected" in str(from_python.value)
        code = cli.main(["analyze", "missing.pt", "--option", f"{name}.{field.name}={text_value}"])
        err = capsys.readouterr().err
        assert code == 2 and str(from_python.value).split(", got")[0] in err, err
