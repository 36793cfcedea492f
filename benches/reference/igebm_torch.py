#!/usr/bin/env python3
"""PyTorch reference for `cargo xtask bench`: the same networks and the same work as the Rust
toolkit, timed one measurement at a time on request so that the two can be interleaved.

Networks (mirroring crates/ebm-model): ResNet32 (CIFAR-10, 3x32x32; stem 3x3 conv to 128
channels, six residual blocks 128d, 128, 256d, 256, 256d, 256 with 3x3 convs, swish, 2x2 average
pool after the residual sum of a "d" block, sum over H and W, linear to one energy; optional
class-conditional biases and gains) and MnistNet (1x28x28; 3x3 conv to 64, then 4x4 stride-2
convs to 64, 128, 256 with TensorFlow SAME padding, swish, linear 4096 -> 128 -> 1). Every conv
and the hidden linear layer are spectrally normalised with one power iteration per forward.

Protocol on stdin/stdout, one command per line, one JSON answer per line:
  {"op": "step", "net": "resnet32", "batch": 128}
      one Langevin-step evaluation (energy + gradient with respect to the input only; the
      parameters do not require gradients), seconds
  {"op": "train", "net": "resnet32", "batch": 128, "steps": 60}
      one contrastive-divergence iteration: `steps` Langevin steps (step size, noise, clip of
      the preset) from uniform noise, then energies of positives and negatives in one forward,
      loss E+ - E- + (E+^2 + E-^2), backward, Adam step; seconds
  {"op": "layer", "c_in": 64, "c_out": 128, "k": 4, "stride": 2, "size": 14, "batch": 128,
   "pass": "forward" | "input grad" | "weight grad"}
      one convolution alone (SAME padding), seconds
  {"op": "info"} -> torch version, threads, mode, allocator
  {"op": "rss"} -> peak resident set of this process so far, MiB
  {"op": "quit"}

Modes (`--mode`, one per process; the bench starts one process per mode and network):
  eager          NCHW tensors, eager execution: PyTorch as most scripts run it
  channels-last  the model's weights and every input in torch.channels_last, the memory format
                 PyTorch's CPU performance guide recommends for convnets (oneDNN's native layout)
  compile        channels-last plus torch.compile (TorchInductor, C++ code generation on CPU)
The allocator is chosen by the process that starts this script (LD_PRELOAD of jemalloc or
tcmalloc, else glibc tunables that keep freed pages) and reported back by "info".

Install: python3 -m venv .venv-torch && .venv-torch/bin/pip install torch
(the CPU-only wheel: --index-url https://download.pytorch.org/whl/cpu). Then
`cargo xtask bench --python .venv-torch/bin/python`.
"""
import json
import os
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def swish(x):
    return x * torch.sigmoid(x)


class SnConv(nn.Module):
    """Conv without bias, spectrally normalised (u kept as a buffer, one power iteration)."""

    def __init__(self, c_in, c_out, k, stride=1, cap=False, near_zero=False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(c_out, c_in, k, k))
        if near_zero:
            nn.init.normal_(self.weight, 0.0, 1e-10)
        else:
            nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        self.register_buffer("u", torch.randn(1, c_out))
        self.k, self.stride, self.cap = k, stride, cap

    def effective_weight(self):
        w = self.weight.reshape(self.weight.shape[0], -1)
        with torch.no_grad():
            v = F.normalize(self.u @ w, dim=1)
            u = F.normalize(v @ w.t(), dim=1)
            if self.weight.requires_grad:
                self.u.copy_(u)
        sigma = (u @ w @ v.t()).reshape(())
        scale = (sigma.clamp(max=1.0) / (sigma + 1e-6)) if self.cap else 1.0 / sigma
        return self.weight * scale

    def forward(self, x):
        return same_conv(x, self.effective_weight(), self.stride)


def same_conv(x, weight, stride):
    """Convolution with TensorFlow SAME padding (an odd total puts the extra row after)."""
    h, w = x.shape[-2:]
    k = weight.shape[-1]
    pads = []
    for size in (w, h):
        out = -(-size // stride)
        total = max((out - 1) * stride + k - size, 0)
        pads += [total // 2, total - total // 2]
    if pads[0] == pads[1] == pads[2] == pads[3]:
        return F.conv2d(x, weight, None, stride, pads[0])
    return F.conv2d(F.pad(x, pads), weight, None, stride)


class SnLinear(nn.Module):
    def __init__(self, n_in, n_out, sn=True):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.sn = sn
        if sn:
            self.register_buffer("u", torch.randn(1, n_out))

    def forward(self, x):
        w = self.linear.weight
        if self.sn:
            with torch.no_grad():
                v = F.normalize(self.u @ w, dim=1)
                u = F.normalize(v @ w.t(), dim=1)
                if w.requires_grad:
                    self.u.copy_(u)
            w = w / (u @ w @ v.t()).reshape(())
        return F.linear(x, w, self.linear.bias)


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out, classes, down):
        super().__init__()
        k = classes or 1
        self.conv_a = SnConv(c_in, c_out, 3)
        self.conv_b = SnConv(c_out, c_out, 3, cap=True, near_zero=True)
        self.shortcut = SnConv(c_in, c_out, 3) if c_in != c_out else None
        self.bias_a = nn.Parameter(torch.zeros(k, c_in))
        self.bias_b = nn.Parameter(torch.zeros(k, c_out))
        self.gain_b = nn.Parameter(torch.ones(k, c_out))
        self.gain_offset = nn.Parameter(torch.zeros(1, c_out)) if classes else None
        self.down = down

    def select(self, p, y):
        v = (y @ p) if y is not None else p
        return v[:, :, None, None]

    def forward(self, x, y):
        h = swish(self.conv_a(x + self.select(self.bias_a, y)))
        h = self.conv_b(h + self.select(self.bias_b, y))
        gain = self.select(self.gain_b, y)
        if self.gain_offset is not None:
            gain = gain + self.gain_offset[:, :, None, None]
        r = h * gain + (self.shortcut(x) if self.shortcut is not None else x)
        if self.down:
            r = F.avg_pool2d(r, 2)
        return swish(r)


RESNET32_BLOCKS = [(128, True), (128, False), (256, True), (256, False), (256, True), (256, False)]


class ResNet32(nn.Module):
    """ResNet32 by default; other widths and stacks as `ResNetConfig` describes them."""

    def __init__(self, classes=None, in_channels=3, stem=128, specs=RESNET32_BLOCKS):
        super().__init__()
        self.stem = SnConv(in_channels, stem, 3)
        blocks, c = [], stem
        for ch, down in specs:
            blocks.append(ResBlock(c, ch, classes, down))
            c = ch
        self.blocks = nn.ModuleList(blocks)
        self.head = SnLinear(c, 1, sn=False)

    def forward(self, x, y=None):
        h = swish(self.stem(x))
        for b in self.blocks:
            h = b(h, y)
        return self.head(swish(h).sum(dim=(2, 3))).reshape(-1)


class MnistNet(nn.Module):
    """The official MNIST network by default; other sizes as `MnistNetConfig` describes them."""

    def __init__(self, in_channels=1, filters=64, hidden=128, image_size=28):
        super().__init__()
        h = filters
        self.convs = nn.ModuleList([
            SnConv(in_channels, h, 3), SnConv(h, h, 4, 2), SnConv(h, 2 * h, 4, 2),
            SnConv(2 * h, 4 * h, 4, 2),
        ])
        side = image_size
        for _ in range(3):
            side = -(-side // 2)  # SAME padding, stride 2: ceil(side / 2)
        self.fc = SnLinear(4 * h * side * side, hidden)
        self.out = SnLinear(hidden, 1, sn=False)

    def forward(self, x, y=None):
        h = x
        for c in self.convs:
            h = swish(c(h))
        return self.out(swish(self.fc(h.flatten(1)))).reshape(-1)


# name: (constructor, input shape, classes, Langevin step, clip or None, noise)
NETS = {
    "resnet32": (lambda: ResNet32(10), (3, 32, 32), 10, 10.0, 0.01, 0.005),
    "mnistnet": (MnistNet, (1, 28, 28), None, 1.0, None, 0.005),
}
_cache = {}


MODE = "eager"


def channels_last(t):
    """`t` in the memory format of the mode (4-d tensors only)."""
    if MODE != "eager" and t.dim() == 4:
        return t.contiguous(memory_format=torch.channels_last)
    return t


def net(name):
    """The network `name` as the mode runs it: (module whose parameters train, callable)."""
    if name not in _cache:
        torch.manual_seed(0)
        model = NETS[name][0]()
        if MODE != "eager":
            model = model.to(memory_format=torch.channels_last)
        run = torch.compile(model) if MODE == "compile" else model
        _cache[name] = (model, run)
    return _cache[name]


def labels(name, batch):
    classes = NETS[name][2]
    if classes is None:
        return None
    return F.one_hot(torch.arange(batch) % classes, classes).float()


def input_grad(model, x, y):
    x = x.detach().requires_grad_(True)
    e = model(x, y)
    (g,) = torch.autograd.grad(e.sum(), x)
    return e.detach(), g


def step(name, batch):
    model, run = net(name)
    model.requires_grad_(False)
    shape = NETS[name][1]
    x = channels_last(torch.rand(batch, *shape))
    y = labels(name, batch)
    start = time.perf_counter()
    input_grad(run, x, y)
    return time.perf_counter() - start


def train(name, batch, steps):
    model, run = net(name)
    _, shape, _, step_size, clip, noise = NETS[name]
    opt = _cache.setdefault(name + "/adam", torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.0, 0.999)))
    y = labels(name, batch)
    x_pos = channels_last(torch.rand(batch, *shape))
    start = time.perf_counter()
    model.requires_grad_(False)
    x = channels_last(torch.rand(batch, *shape))
    for _ in range(steps):
        x = x + noise * torch.randn_like(x)
        _, g = input_grad(run, x, y)
        if clip is not None:
            g = g.clamp(-clip, clip)
        x = (x - step_size * g).clamp(0.0, 1.0)
    model.requires_grad_(True)
    y_all = None if y is None else torch.cat([y, y])
    e = run(channels_last(torch.cat([x_pos, x.detach()])), y_all)
    e_pos, e_neg = e[:batch], e[batch:]
    loss = e_pos.mean() - e_neg.mean() + (e_pos.pow(2).mean() + e_neg.pow(2).mean())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - start


def layer(cmd):
    """One convolution of a network alone: `pass` forward, input grad (forward + gradient with
    respect to the input) or weight grad (forward + gradient with respect to the weight)."""
    key = ("layer", cmd["c_in"], cmd["c_out"], cmd["k"], cmd["stride"], cmd["size"], cmd["batch"])
    if key not in _cache:
        torch.manual_seed(0)
        b, s, k = cmd["batch"], cmd["size"], cmd["k"]
        out = -(-s // cmd["stride"])
        _cache[key] = (
            channels_last(torch.rand(b, cmd["c_in"], s, s)),
            channels_last(0.05 * torch.randn(cmd["c_out"], cmd["c_in"], k, k)),
            channels_last(torch.randn(b, cmd["c_out"], out, out)),
        )
    x, w, g = _cache[key]
    start = time.perf_counter()
    if cmd["pass"] == "forward":
        with torch.no_grad():
            same_conv(x, w, cmd["stride"])
    else:
        wrt = x if cmd["pass"] == "input grad" else w
        wrt = wrt.detach().requires_grad_(True)
        args = (wrt, w) if cmd["pass"] == "input grad" else (x, wrt)
        torch.autograd.grad(same_conv(*args, cmd["stride"]), wrt, g)
    return time.perf_counter() - start


def peak_rss_mib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def allocator():
    preload = os.environ.get("LD_PRELOAD", "")
    for name in ("jemalloc", "tcmalloc"):
        if name in preload:
            return name
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return "glibc (tunables: " + os.environ["GLIBC_TUNABLES"] + ")"
    return "glibc"


def main():
    global MODE
    args = sys.argv[1:]
    while args:
        flag, value, args = args[0], args[1], args[2:]
        if flag == "--threads":
            torch.set_num_threads(int(value))
        elif flag == "--mode":
            if value not in ("eager", "channels-last", "compile"):
                raise SystemExit(f"unknown mode {value}: eager, channels-last or compile")
            MODE = value
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "quit":
            break
        if op == "info":
            ans = {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "mode": MODE,
                "allocator": allocator(),
            }
        elif op == "rss":
            ans = {"mib": peak_rss_mib()}
        else:
            try:
                if op == "step":
                    ans = {"seconds": step(cmd["net"], cmd["batch"])}
                elif op == "train":
                    ans = {"seconds": train(cmd["net"], cmd["batch"], cmd["steps"])}
                elif op == "layer":
                    ans = {"seconds": layer(cmd)}
                else:
                    ans = {"error": f"unknown op {op}"}
            except Exception as e:  # reported to the bench, which drops this mode
                ans = {"error": f"{type(e).__name__}: {e}"[:2000]}
        print(json.dumps(ans), flush=True)


if __name__ == "__main__":
    main()
