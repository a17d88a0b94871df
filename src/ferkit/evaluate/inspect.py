"""Inside the network: a layer's feature maps for one face, and a Grad-CAM map of where it looked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ferkit.errors import UnknownName


def conv_layer_names(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def _layer(model: nn.Module, name: str) -> nn.Module:
    modules = dict(model.named_modules())
    if name not in modules:
        raise UnknownName(f"no layer {name!r}; conv layers: {', '.join(conv_layer_names(model))}")
    return modules[name]


def feature_maps(model: nn.Module, face: np.ndarray, layer: str) -> np.ndarray:
    """C×H×W activations of `layer` for one 48×48 face (the real feature maps, not the input)."""
    captured: dict[str, torch.Tensor] = {}
    hook = _layer(model, layer).register_forward_hook(lambda m, i, o: captured.__setitem__("maps", o.detach()))
    try:
        model.eval()
        with torch.no_grad():
            model(torch.as_tensor(face, dtype=torch.float32)[None, None])
    finally:
        hook.remove()
    return captured["maps"][0].float().numpy()


def grad_cam(model: nn.Module, face: np.ndarray, layer: str, target: int | None = None) -> tuple[np.ndarray, int]:
    """(48×48 heat map in [0, 1], class explained): Grad-CAM of `target` (default the top class) at `layer`."""
    store: dict[str, torch.Tensor] = {}
    module = _layer(model, layer)
    fwd = module.register_forward_hook(lambda m, i, o: store.__setitem__("act", o))
    bwd = module.register_full_backward_hook(lambda m, gi, go: store.__setitem__("grad", go[0]))
    try:
        model.eval()
        x = torch.as_tensor(face, dtype=torch.float32)[None, None].requires_grad_(True)
        logits = model(x)
        target = int(logits.argmax(1)) if target is None else target
        model.zero_grad()
        logits[0, target].backward()
    finally:
        fwd.remove()
        bwd.remove()
    weights = store["grad"][0].mean(dim=(1, 2))  # one weight per channel
    cam = torch.relu((weights[:, None, None] * store["act"][0]).sum(0)).detach()
    cam = torch.nn.functional.interpolate(cam[None, None], size=face.shape, mode="bilinear", align_corners=False)[0, 0]
    cam = cam - cam.min()
    return (cam / cam.max() if cam.max() > 0 else cam).numpy(), target


def draw_inspection(
    face: np.ndarray, maps: np.ndarray, cam: np.ndarray, layer: str, title: str, out: Path, *, max_maps: int = 32
) -> Path:
    from ferkit.data.figures import pyplot

    plt = pyplot()
    shown = maps[:max_maps]
    cols = 8
    rows = int(np.ceil(len(shown) / cols))
    fig = plt.figure(figsize=(cols * 1.2 + 5, max(rows * 1.3, 4)))
    grid = fig.add_gridspec(rows, cols + 4)
    face_ax = fig.add_subplot(grid[: max(rows // 2, 1), cols : cols + 2])
    face_ax.imshow(face, cmap="gray", vmin=0, vmax=255)
    face_ax.set_title("face", fontsize=9)
    cam_ax = fig.add_subplot(grid[: max(rows // 2, 1), cols + 2 :])
    cam_ax.imshow(face, cmap="gray", vmin=0, vmax=255)
    cam_ax.imshow(cam, cmap="jet", alpha=0.45)
    cam_ax.set_title(f"Grad-CAM: {title}", fontsize=9)
    for ax in (face_ax, cam_ax):
        ax.axis("off")
    for k, fmap in enumerate(shown):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        ax.imshow(fmap, cmap="viridis")
        ax.axis("off")
    fig.suptitle(f"feature maps of {layer} ({len(shown)} of {len(maps)} channels)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def inspect_face(checkpoint: Path, image: Path, out: Path, layer: str | None = None) -> tuple[Path, str]:
    """Feature maps of `layer` (default: the last conv) and Grad-CAM for one face image: (PNG, top class)."""
    from ferkit.data.images import read_face_image
    from ferkit.models.checkpoint import load_checkpoint, model_from_checkpoint

    state = load_checkpoint(checkpoint)
    face = read_face_image(image)
    net = model_from_checkpoint(state).float()
    layer = layer or conv_layer_names(net)[-1]
    maps = feature_maps(net, face, layer)
    cam, target = grad_cam(net, face, layer)
    top = state["class_names"][target]
    return draw_inspection(face, maps, cam, layer, top, out), top
