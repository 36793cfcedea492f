#!/usr/bin/env python3
"""pytorch-fid's FID InceptionV3, for checking ebm's (crates/ebm-experiments/src/eval/inception/).

usage:
  fid_inception.py random OUT.pth SEED
      Builds the network exactly as pytorch-fid's `fid_inception_v3` does (torchvision's
      inception_v3 with pytorch-fid's FID blocks), but with random weights and random
      batch-norm statistics instead of the published ones, and saves its state_dict to OUT.pth.
  fid_inception.py features WEIGHTS.pth INPUT.json
      Loads WEIGHTS.pth into pytorch-fid's `InceptionV3([3])` (its default: resize to 299,
      scale to [-1, 1], pool3 features) and prints one line of JSON:
      {"pool3": [n*2048], "logits": [n*1008], "fid": float or null}
      where `logits` are `pool3 @ fc.weight.T` (the classifier without its bias, what the
      Inception Score uses) and `fid` is pytorch-fid's `calculate_frechet_distance` between
      the statistics of the input's first `split` images and the rest, when INPUT has `split`.
      INPUT.json: {"shape": [n, 3, h, w], "x": [n*3*h*w floats in [0, 1]], "split": k or null}

Needs torch, torchvision and pytorch-fid (`pip install pytorch-fid`); nothing is downloaded:
the weights always come from the file given.
"""
import json
import sys

import numpy as np
import torch
import torchvision
from pytorch_fid import inception as pfi
from pytorch_fid.fid_score import calculate_frechet_distance


def build_random(seed):
    """pytorch-fid's FID network with random weights: its own constructor, with the download
    replaced by "keep the initialised weights"."""
    torch.manual_seed(seed)
    sentinel = object()
    original_loader = pfi.load_state_dict_from_url
    original_load = torchvision.models.inception.Inception3.load_state_dict

    def keep(self, state_dict, *args, **kwargs):
        if state_dict is sentinel:
            return None
        return original_load(self, state_dict, *args, **kwargs)

    pfi.load_state_dict_from_url = lambda *a, **k: sentinel
    torchvision.models.inception.Inception3.load_state_dict = keep
    try:
        net = pfi.fid_inception_v3()
    finally:
        pfi.load_state_dict_from_url = original_loader
        torchvision.models.inception.Inception3.load_state_dict = original_load
    # Weights that keep activations of order one through the depth, and batch-norm
    # statistics far from the identity, so every tensor's name and layout matter.
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
            elif isinstance(m, torch.nn.Linear):
                m.weight.normal_(0.0, 0.05)
                m.bias.normal_(0.0, 0.1)
    return net


def features(weights, input_file):
    state = torch.load(weights, map_location="cpu")
    original_loader = pfi.load_state_dict_from_url
    pfi.load_state_dict_from_url = lambda *a, **k: state
    try:
        model = pfi.InceptionV3([3]).eval()
    finally:
        pfi.load_state_dict_from_url = original_loader
    with open(input_file) as f:
        spec = json.load(f)
    x = torch.tensor(spec["x"], dtype=torch.float32).reshape(spec["shape"])
    with torch.no_grad():
        pool3 = model(x)[0].flatten(1)
        logits = pool3 @ state["fc.weight"].T
    fid = None
    split = spec.get("split")
    if split:
        a = pool3[:split].double().numpy()
        b = pool3[split:].double().numpy()
        fid = float(
            calculate_frechet_distance(
                np.mean(a, axis=0), np.cov(a, rowvar=False), np.mean(b, axis=0), np.cov(b, rowvar=False)
            )
        )
    print(json.dumps({"pool3": pool3.flatten().tolist(), "logits": logits.flatten().tolist(), "fid": fid}))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "random":
        torch.save(build_random(int(sys.argv[3])).state_dict(), sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "features":
        features(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
