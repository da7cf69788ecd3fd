"""The shared capture pass: reductions, float16, limits, both networks, hooks always removed."""

from __future__ import annotations

import pytest
import torch

from ganlens import testing
from ganlens.core.capture import CaptureRequest, layer_names, merge_requests, run_capture
from ganlens.errors import InputError


def _direct(gan, module_name, z):
    seen = []
    module = dict(gan.generator.named_modules())[module_name]
    h = module.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    with torch.no_grad():
        gan.forward(z)
    h.remove()
    return seen[0]


def test_reductions_equal_a_direct_forward_pass(image_gan):
    name = layer_names(image_gan.generator)[1]  # a ConvTranspose2d: spatial outputs
    reqs = [CaptureRequest("generator", name, "mean"), CaptureRequest("generator", name, "max"),
            CaptureRequest("generator", name, "none", limit=5),
            CaptureRequest("generator", name, "mean", float16=True)]
    cap = run_capture(image_gan, reqs, n=70, seed=2, batch_size=32, progress=False)
    full = _direct(image_gan, name, image_gan.latents(70, seed=2))
    assert cap.generator_calls == 3  # ceil(70 / 32)
    assert torch.allclose(cap.activation("generator", name, "mean"), full.mean((2, 3)), atol=1e-6)
    assert torch.allclose(cap.activation("generator", name, "max"), full.amax((2, 3)), atol=1e-6)
    assert torch.allclose(cap.activation("generator", name, "none"), full[:5], atol=1e-6)
    # float16 was asked for by one request and float32 by another: float32 wins.
    assert cap.activations[("fake", "generator", name, "mean")].dtype == torch.float32
    assert torch.allclose(cap.fakes, image_gan.sample(70, seed=2), atol=1e-6)


def test_float16_storage_when_every_request_allows_it(image_gan):
    name = layer_names(image_gan.generator)[0]
    cap = run_capture(image_gan, [CaptureRequest("generator", name, float16=True)], n=10,
                      progress=False)
    assert cap.activations[("fake", "generator", name, "mean")].dtype == torch.float16


def test_discriminator_on_fakes_and_reals(image_gan):
    real = testing.random_images(40).x
    name = layer_names(image_gan.discriminator)[0]
    cap = run_capture(image_gan, [CaptureRequest("discriminator", name)], n=30, real_x=real,
                      batch_size=16, progress=False)
    assert cap.activation("discriminator", name, source="fake").shape[0] == 30
    assert cap.activation("discriminator", name, source="real").shape[0] == 40
    assert torch.allclose(cap.d_real, image_gan.discriminate(real), atol=1e-6)
    assert torch.allclose(cap.d_fake, image_gan.discriminate(cap.fakes), atol=1e-6)


def test_hooks_are_removed_also_on_error(image_gan):
    name = layer_names(image_gan.generator)[0]
    calls = [0]

    def explode(_m, _i, _o):
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("boom in the second batch")

    module = dict(image_gan.generator.named_modules())[name]
    handle = module.register_forward_hook(explode)
    with pytest.raises(RuntimeError, match="boom"):
        run_capture(image_gan, [CaptureRequest("generator", name)], n=20, batch_size=8,
                    progress=False)
    handle.remove()
    assert testing.hook_count(image_gan) == 0


def test_unknown_module_and_missing_network(image_gan):
    with pytest.raises(InputError, match="no module named 'nope'"):
        run_capture(image_gan, [CaptureRequest("generator", "nope")], n=4, progress=False)
    g_only = testing.tiny_image_gan(discriminator=False)
    with pytest.raises(InputError, match="there is no discriminator"):
        run_capture(g_only, [CaptureRequest("discriminator", "x")], n=4, progress=False)
    assert testing.hook_count(image_gan) == 0


def test_bad_request_values():
    with pytest.raises(InputError, match="reduction"):
        CaptureRequest("generator", "a", "median")
    with pytest.raises(InputError, match="network"):
        CaptureRequest("mapping", "a")


def test_merge_requests_takes_the_union():
    merged = merge_requests([
        CaptureRequest("generator", "a", "none", limit=4),
        CaptureRequest("generator", "a", "none", limit=9),
        CaptureRequest("generator", "a", "mean"),
        CaptureRequest("generator", "b", "mean", limit=None),
    ])
    forms = {f.reduction: f for f in merged[("generator", "a")]}
    assert forms["none"].limit == 9 and set(forms) == {"none", "mean"}
    assert len(merged) == 2


def test_trace_layers_follows_the_call_order_not_the_registration_order():
    from torch import nn

    from ganlens.capture import trace_layers

    class Swapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.second = nn.Linear(4, 3)   # registered first, called second
            self.first = nn.Linear(2, 4)
            self.unused = nn.Linear(9, 9)

        def forward(self, x):
            return self.second(torch.relu(self.first(x)))

    net = Swapped()
    calls = trace_layers(net, lambda: net(torch.zeros(5, 2)))
    assert [(c.name, c.output_shape, c.calls) for c in calls] == [("first", (4,), 1), ("second", (3,), 1)]
    assert all(not m._forward_hooks for m in net.modules())


def test_a_module_called_twice_keeps_its_first_call_and_is_reported():
    from torch import nn

    import ganlens

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.act = nn.ReLU()  # shared: called twice per forward

        def forward(self, z):
            return self.act(self.lin(self.act(z)))

    gan = ganlens.GAN(Twice(), ganlens.LatentSpec((3,)), ganlens.DataSpec("vector", (3,)))
    cap = run_capture(gan, [CaptureRequest("generator", "act")], n=10, batch_size=4, progress=False)
    assert cap.reused_modules == ["generator:act"]
    assert torch.allclose(cap.activation("generator", "act"), torch.relu(cap.latents))


def test_in_place_ops_after_a_module_do_not_change_what_was_captured():
    from torch import nn

    import ganlens

    g = nn.Sequential(nn.Linear(3, 5), nn.ReLU(inplace=True))
    gan = ganlens.GAN(g, ganlens.LatentSpec((3,)), ganlens.DataSpec("vector", (5,)))
    cap = run_capture(gan, [CaptureRequest("generator", "0")], n=20, progress=False)
    with torch.no_grad():
        expected = g[0](cap.latents)
    assert float(expected.min()) < 0  # the ReLU would have zeroed these
    assert torch.allclose(cap.activation("generator", "0"), expected, atol=1e-6)
