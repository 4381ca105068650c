"""Int8 dynamic quantization of a sentence-transformers model in torch (the torch runtime's speed-up).

    model = quantize_int8(model)     # every Linear int8, outlier input channels kept in fp32
"""

from __future__ import annotations

import functools
import logging
import warnings
from typing import Sequence

from rag.outliers import CALIBRATION_TEXTS, outlier_channels

log = logging.getLogger(__name__)


def quantize_int8(model: object, calibration: Sequence[str] = CALIBRATION_TEXTS) -> object:
    """Int8 dynamic quantization of every Linear, keeping outlier input channels in fp32 (see
    rag/outliers.py for why)."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    absmax: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            def record(mod, args, name=name):
                peak = args[0].detach().abs().reshape(-1, args[0].shape[-1]).amax(0)
                absmax[name] = torch.maximum(absmax[name], peak) if name in absmax else peak
            hooks.append(module.register_forward_pre_hook(record))
    try:
        with torch.inference_mode():
            model.encode(list(calibration), batch_size=len(calibration), convert_to_numpy=True)
    finally:
        for hook in hooks:
            hook.remove()
    outliers, skip = outlier_channels({name: peak.numpy() for name, peak in absmax.items()})
    split_linear = _outlier_split_linear_class()
    for name, channels in outliers.items():
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, split_linear(getattr(parent, child), torch.from_numpy(channels)))
    split = set(outliers)
    spec = {f"{name}.inner" if name in split else name for name in absmax if name not in skip}
    log.debug("int8: %d Linear layers, %d with fp32 outlier channels, %d left fp32", len(spec), len(split), len(skip))
    with warnings.catch_warnings():
        # torch marks its eager quantization API deprecated in favour of torchao; it still ships and works
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        return quantize_dynamic(model, spec, dtype=torch.qint8)


@functools.cache
def _outlier_split_linear_class() -> type:
    # defined on first use: the base class is torch's, and torch is not imported at import time
    import torch

    class OutlierSplitLinear(torch.nn.Module):
        """y = int8(W_rest) x_rest + W_out x_out: the few outlier columns in fp32, the rest quantizable."""

        def __init__(self, linear: torch.nn.Linear, outliers: torch.Tensor) -> None:
            super().__init__()
            self.inner = torch.nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None)
            with torch.no_grad():
                weight = linear.weight.detach().clone()
                self.register_buffer("outliers", outliers.clone())
                self.register_buffer("outlier_weight", weight[:, outliers].t().contiguous())
                weight[:, outliers] = 0.0
                self.inner.weight.copy_(weight)
                if linear.bias is not None:
                    self.inner.bias.copy_(linear.bias.detach())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            rest = x.index_fill(-1, self.outliers, 0.0)
            return self.inner(rest) + x.index_select(-1, self.outliers) @ self.outlier_weight

    return OutlierSplitLinear
