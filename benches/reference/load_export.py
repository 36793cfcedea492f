#!/usr/bin/env python3
"""Loads weights written by `ebm export` into the PyTorch reference network (igebm_torch.py)
and prints its energies of a batch: the check that the exported names, layouts and
spectral-norm vectors mean in PyTorch what they mean in ebm.

usage: load_export.py WEIGHTS.safetensors INPUT.json
  WEIGHTS.json beside the weights: the export's configuration (`config.model` is the network)
  INPUT.json: {"shape": [n, c, h, w], "x": [n*c*h*w floats], "labels": [n ints] or null}
prints one line: {"energies": [n floats]}

The network is evaluated with its parameters frozen (requires_grad False), so the reference's
spectral norm runs its power iteration from the stored `u` without writing it back, as ebm
does outside training. Only what the reference implements is accepted: swish everywhere,
spectral norm on, one power iteration per forward.

Needs only torch (the safetensors file is read here, not with the safetensors package).
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F

from igebm_torch import MnistNet, ResNet32

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    """The tensors of a safetensors file, by name."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).float()
    return out


def fail(message):
    print(json.dumps({"error": message}), flush=True)
    sys.exit(2)


def build(model):
    """The reference network for an ebm `ModelConfig` (`{"ResNet": {...}}` or `{"MnistNet": ...}`)."""
    (kind, cfg), = model.items()
    if cfg.get("spectral_norm") is not True or cfg.get("power_iterations") != 1:
        fail("the reference spectrally normalises every layer with one power iteration")
    if cfg.get("activation") != "Swish" or cfg.get("head_activation") not in (None, "Swish"):
        fail("the reference network uses swish everywhere")
    if cfg.get("class_head"):
        fail("the reference network conditions its blocks; it has no class head")
    if kind == "ResNet":
        specs = [(b["channels"], b["downsample"]) for b in cfg["blocks"]]
        return ResNet32(cfg.get("num_classes"), cfg["in_channels"], cfg["stem_channels"], specs)
    if kind == "MnistNet":
        return MnistNet(cfg["in_channels"], cfg["filters"], cfg["hidden"], cfg["image_size"])
    fail(f"no reference network for {kind}")


def main():
    weights, batch = sys.argv[1], sys.argv[2]
    with open(weights.rsplit(".", 1)[0] + ".json") as f:
        model_cfg = json.load(f)["config"]["model"]
    net = build(model_cfg)
    net.load_state_dict(read_safetensors(weights), strict=True)
    net.requires_grad_(False)
    with open(batch) as f:
        inp = json.load(f)
    x = torch.tensor(inp["x"], dtype=torch.float32).reshape(inp["shape"])
    y = None
    if inp.get("labels") is not None:
        classes = next(iter(model_cfg.values()))["num_classes"]
        y = F.one_hot(torch.tensor(inp["labels"]), classes).float()
    with torch.no_grad():
        e = net(x, y)
    print(json.dumps({"energies": e.tolist()}), flush=True)


if __name__ == "__main__":
    main()
