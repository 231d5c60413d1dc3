"""Write a tiny FMCIB-shaped checkpoint with real PyTorch + MONAI, and its reference output.

FMCIB (Pai et al., Nat Mach Intell 2024) is MONAI's 3D ResNet-50 (bottleneck
blocks, widen_factor=2, conv1_t_stride=2, no classifier) saved by PyTorch with
its weights under ``trunk_state_dict``. This script builds the same network
family with one block per stage and a few channels, gives its batch-norm layers
non-trivial statistics, saves it as FMCIB does, and stores PyTorch's output for a seeded random
input, so tests/test_deep.py can check radnb's torch-free loader
and JAX forward pass against the real thing.

Run (needs torch and monai, e.g. in a throwaway venv):
    python tests/data/make_fmcib_tiny.py tests/data
"""
import sys
from pathlib import Path

import numpy as np
import torch
from monai.networks.nets import ResNet


def reference_input():
    """The input the reference output was computed on (rebuilt by the test with numpy)."""
    return np.random.default_rng(0).random((2, 1, 50, 50, 50), dtype=np.float32)


def main(out):
    out = Path(out)
    torch.manual_seed(0)
    net = ResNet(block="bottleneck", layers=[1, 1, 1, 1], block_inplanes=[2, 4, 8, 16],
                 spatial_dims=3, n_input_channels=1, conv1_t_size=7, conv1_t_stride=2,
                 widen_factor=2, feed_forward=False)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    net.eval()
    torch.save({"trunk_state_dict": net.state_dict(), "epoch": 1}, out / "fmcib_tiny.torch")
    x = reference_input()
    with torch.no_grad():
        y = net(torch.from_numpy(x))
    np.savez_compressed(out / "fmcib_tiny_reference.npz", output=y.numpy(),
                        torch_version=np.array(torch.__version__))
    print(out / "fmcib_tiny.torch", tuple(y.shape))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
