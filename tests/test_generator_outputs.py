"""Generators whose outputs come in other forms: a tuple, a dict, channels last, 8-bit values;
each read the way the user says or the layers show, with a one-line error otherwise."""

from __future__ import annotations

import textwrap

import pytest
import torch
from conftest import load_module_file

import ganlens
from ganlens.errors import InputError

ARCH = textwrap.dedent('''
    import torch
    from torch import nn

    class Base(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.net = nn.Sequential(nn.Linear(4, 48), nn.Tanh())
        def image(self, z):
            return self.net(z).reshape(-1, 3, 4, 4)

    class Pair(Base):        # (image, auxiliary)
        def forward(self, z):
            return self.image(z), z.sum(1)

    class Dict(Base):        # {"image": ..., "features": ...}
        def forward(self, z):
            return {"image": self.image(z), "features": self.net(z)}

    class ChannelsLast(Base):
        def forward(self, z):
            return self.image(z).permute(0, 2, 3, 1)

    class Bytes(Base):       # 8-bit pixel values, no final module to say so
        def forward(self, z):
            return (self.image(z) + 1) * 127.5
''')


@pytest.fixture()
def arch(tmp_path):
    path = tmp_path / "garch.py"
    path.write_text(ARCH)
    mod = load_module_file(path, "garch_weights")
    torch.save(mod.Base().state_dict(), tmp_path / "g.pth")
    return tmp_path, path, mod.Base().eval()


def _load(arch, name, **kw):
    tmp, path, _ = arch
    return ganlens.load(tmp / "g.pth", arch=f"{path}:{name}", **kw)


def _want(arch, z):
    with torch.no_grad():
        return arch[2].image(z)


def test_tuple_dict_and_channels_last_outputs_give_the_same_images(arch):
    z = torch.randn(5, 4)
    want = _want(arch, z)
    for name, kw in [("Pair", {}), ("Dict", {}), ("Dict", {"output_key": "image"}),
                     ("ChannelsLast", {}), ("ChannelsLast", {"output_layout": "nhwc"})]:
        if name == "Dict" and not kw:
            with pytest.raises(InputError, match="dict with keys image, features; name the data "
                                                 "with --output-key KEY"):
                _load(arch, name)
            continue
        gan = _load(arch, name, **kw)
        assert gan.data.shape == (3, 4, 4) and gan.data.value_range == (-1.0, 1.0), name
        assert torch.allclose(gan.decode(z), want, atol=1e-6), name
    aux = _load(arch, "Pair", output_index=1, output_shape=(1,))
    assert aux.data.kind == "vector" and torch.allclose(aux.decode(z)[:, 0], z.sum(1), atol=1e-6)
    with pytest.raises(InputError, match="returns 2 outputs; --output-index must be 0 to 1"):
        _load(arch, "Pair", output_index=5)


def test_eight_bit_outputs_are_read_as_0_to_255(arch):
    gan = _load(arch, "Bytes")
    assert gan.data.value_range == (0.0, 255.0)
    report = ganlens.analyze(gan, analyzers=["samples"], samples=8, progress=False)
    assert report["samples"].status == "ok"
