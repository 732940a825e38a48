"""Image datasets that need no download: scikit-learn's digits, IDX files, multi-label digits.

* ``digits``: the 1,797 8x8 handwritten digits bundled with scikit-learn
  (``sklearn.datasets.load_digits``; UCI "Optical Recognition of Handwritten Digits", 4-bit
  grey levels 0..16), split once and for all into 1,347 training and 450 test images by a
  stratified split with seed 0 (``train_test_split(test_size=450, stratify=y,
  random_state=0)``), so every run and every metric sees the same held-out digits.
* ``idx_images``: MNIST / Fashion-MNIST style IDX files (LeCun et al.'s format: magic
  ``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the data in C order),
  gzipped or not.
* ``multilabel_digits``: two digits of one split, overlaid (pixel-wise max, 8x8) or side by
  side (8x16), labelled by the multi-hot set of digits present; the pairs are drawn from a
  seed, so the set is the same on every run.

Images are float tensors (C, H, W) in [-1, 1], the range of DCGAN's tanh; items follow the
``LABELS`` batch contract (:mod:`speechgan.batches`): ``{"x": image, "label": label}`` with
a long class index, or a float multi-hot vector.
"""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from speechgan.batches import LABELS
from speechgan.errors import DataError

__all__ = ["DIGITS_TEST_SIZE", "digits_split", "Digits", "MultiLabelDigits", "IdxImages", "read_idx"]

DIGITS_TEST_SIZE = 450  # of 1,797: 1,347 training images, a quarter held out
_DIGITS_SPLIT_SEED = 0

Split = Literal["train", "test"]
ImageSize = Literal[8, 28, 32, 64]

# IDX type codes -> big-endian numpy dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _resize(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, size, size) bilinearly; values stay in [-1, 1] (convex weights)."""
    if size is None or images.shape[-2:] == (size, size):
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)


def digits_split(split: Split) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed digits split: images (N, 1, 8, 8) float in [-1, 1] and labels (N,) long."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if split not in ("train", "test"):
        raise DataError(f"digits: split must be 'train' or 'test', got {split!r}")
    data = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        data.images, data.target, test_size=DIGITS_TEST_SIZE, stratify=data.target, random_state=_DIGITS_SPLIT_SEED
    )
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    images = torch.from_numpy(np.asarray(x, dtype=np.float32) / 8.0 - 1.0)[:, None]  # 0..16 -> [-1, 1]
    return images, torch.from_numpy(np.asarray(y, dtype=np.int64))


class Digits(Dataset):
    """scikit-learn's 8x8 digits (10 classes), fixed 1,347/450 split; items {x: image (1, S, S), label}."""

    yields = LABELS  # {"x": (B, 1, S, S), "label": (B,) or (B, K)}

    num_classes = 10

    def __init__(self, split: Split = "train", image_size: ImageSize = 8) -> None:
        images, self.labels = digits_split(split)
        self.images = _resize(images, image_size)  # (N, 1, S, S)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.images[i], "label": self.labels[i]}


class MultiLabelDigits(Dataset):
    """Pairs of digits, overlaid (8x8) or side by side (8x16); items {x: image, label: multi-hot (10,) vector}.

    The two digits of an item are drawn independently and uniformly from ``split`` with
    ``seed``; the label vector has a 1 for each digit present (one 1 when both are the
    same digit).
    """

    yields = LABELS  # {"x": (B, 1, S, S), "label": (B,) or (B, K)}

    num_labels = 10

    def __init__(
        self,
        split: Split = "train",
        layout: Literal["overlay", "side_by_side"] = "overlay",
        num_samples: int = 4000,
        seed: int = 0,
    ) -> None:
        if num_samples < 1:
            raise DataError(f"multilabel_digits: num_samples must be >= 1, got {num_samples}")
        images, labels = digits_split(split)
        pick = torch.randint(len(labels), (2, num_samples), generator=torch.Generator().manual_seed(seed))  # (2, N)
        first, second = images[pick[0]], images[pick[1]]  # (N, 1, 8, 8) each
        self.images = torch.maximum(first, second) if layout == "overlay" else torch.cat([first, second], dim=3)
        self.labels = torch.zeros(num_samples, self.num_labels)
        rows = torch.arange(num_samples)
        self.labels[rows, labels[pick[0]]] = 1.0
        self.labels[rows, labels[pick[1]]] = 1.0
        self.pairs = pick.T  # (N, 2): indices into the split's images of each item's two digits

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.images[i], "label": self.labels[i]}


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (gzipped or not) as a numpy array of its stored shape and type."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read IDX file {path}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":  # the gzip magic, whatever the file's name
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: corrupt gzip data ({exc}); download the file again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(
            f"{path}: not an IDX file: bad magic number 0x{raw[:4].hex() or 'empty'} (expected 00 00, a type "
            "code 08/09/0b/0c/0d/0e and the number of dimensions, e.g. 0x00000803 for MNIST images)"
        )
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes, the file has {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = math.prod(dims) * dtype.itemsize
    if len(raw) - header != expected:
        what = "truncated" if len(raw) - header < expected else "longer than its header says"
        raise DataError(
            f"{path}: {what}: the header gives shape {dims} of {dtype.name} ({expected} bytes of data) "
            f"but {len(raw) - header} bytes follow it"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


class IdxImages(Dataset):
    """MNIST-style IDX image and label files; items {x: image (1, S, S) in [-1, 1], label}."""

    yields = LABELS  # {"x": (B, 1, S, S), "label": (B,) or (B, K)}

    def __init__(self, images: str, labels: str, image_size: ImageSize | None = None, limit: int | None = None) -> None:
        pixels, targets = read_idx(images), read_idx(labels)
        if pixels.ndim != 3 or pixels.dtype != np.uint8:
            raise DataError(
                f"{images}: expected unsigned-byte images (N, rows, columns), got {pixels.dtype} of shape {pixels.shape}"
            )
        if targets.ndim != 1 or not np.issubdtype(targets.dtype, np.integer):
            raise DataError(f"{labels}: expected integer labels (N,), got {targets.dtype} of shape {targets.shape}")
        if len(targets) != len(pixels):
            raise DataError(f"{labels} holds {len(targets)} labels but {images} holds {len(pixels)} images; pair the right files")
        if len(targets) == 0:
            raise DataError(f"{images}: holds no images")
        if limit is not None:
            if limit < 1:
                raise DataError(f"idx_images: limit must be a positive number of images, got {limit}")
            pixels, targets = pixels[:limit], targets[:limit]
        x = torch.from_numpy(pixels.astype(np.float32) / 127.5 - 1.0)[:, None]  # 0..255 -> [-1, 1]
        self.images = _resize(x, image_size)  # (N, 1, S, S)
        self.labels = torch.from_numpy(targets.astype(np.int64))
        self.num_classes = int(self.labels.max()) + 1

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.images[i], "label": self.labels[i]}
