"""Image datasets: the fixed digits split, the IDX reader, multi-label digits."""

import gzip
import struct

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from speechgan.errors import DataError
from speechgan_plugins.image.datasets import Digits, IdxImages, MultiLabelDigits, digits_split, read_idx


@pytest.fixture(scope="module")
def splits():
    return {split: Digits(split=split) for split in ("train", "test")}


def test_digits_split_sizes_classes_and_range(splits):
    train, test = splits["train"], splits["test"]
    assert (len(train), len(test)) == (1347, 450)
    image, label = train[0]["x"], train[0]["label"]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32 and label.dtype == torch.int64
    full = np.bincount(load_digits().target, minlength=10)
    counts = [np.bincount(ds.labels.numpy(), minlength=10) for ds in (train, test)]
    np.testing.assert_array_equal(counts[0] + counts[1], full)
    assert np.abs(counts[1] - full * 450 / 1797).max() < 1  # stratified: 450 / 1797 of each class
    # 0..16 grey levels -> exactly [-1, 1]
    assert train.images.min() == -1.0 and train.images.max() == 1.0
    assert torch.equal(torch.unique(train.images * 8 + 8), torch.arange(17.0))


def test_digits_split_is_disjoint_and_covers_every_image(splits):
    raw = load_digits().images.reshape(len(load_digits().images), -1)
    both = torch.cat([splits["train"].images, splits["test"].images]).flatten(1).numpy()
    ours = sorted(map(tuple, (both + 1) * 8))
    assert ours == sorted(map(tuple, raw))


def test_digits_split_is_deterministic(splits):
    again = Digits(split="test")
    assert torch.equal(again.images, splits["test"].images) and torch.equal(again.labels, splits["test"].labels)


@pytest.mark.parametrize("size", [28, 32, 64])
def test_digits_resize(size, splits):
    big = Digits(split="test", image_size=size)
    assert big.images.shape == (450, 1, size, size)
    assert big.images.min() >= -1.0 and big.images.max() <= 1.0
    # bilinear upsampling keeps the mean grey level, up to edge effects
    assert big.images.mean().item() == pytest.approx(splits["test"].images.mean().item(), abs=0.01)
    assert torch.equal(big.labels, splits["test"].labels)


def test_multilabel_vectors_are_the_digits_present():
    ds = MultiLabelDigits(split="test", num_samples=200, seed=3)
    images, labels = digits_split("test")
    assert len(ds) == 200 and ds[0]["x"].shape == (1, 8, 8) and ds[0]["label"].shape == (10,)
    for i in range(200):
        a, b = ds.pairs[i].tolist()
        expected = torch.zeros(10)
        expected[labels[a]] = expected[labels[b]] = 1.0
        assert torch.equal(ds[i]["label"], expected)
        assert torch.equal(ds[i]["x"], torch.maximum(images[a], images[b]))
    sums = ds.labels.sum(1)
    assert set(sums.tolist()) <= {1.0, 2.0} and (sums == 2).float().mean() > 0.8  # 9/10 pairs differ


def test_multilabel_side_by_side_and_determinism():
    ds = MultiLabelDigits(split="train", layout="side_by_side", num_samples=50, seed=0)
    images, _ = digits_split("train")
    a, b = ds.pairs[7].tolist()
    assert ds[7]["x"].shape == (1, 8, 16)
    assert torch.equal(ds[7]["x"], torch.cat([images[a], images[b]], dim=2))
    assert torch.equal(MultiLabelDigits(split="train", num_samples=50, seed=0).pairs, ds.pairs)
    assert not torch.equal(MultiLabelDigits(split="train", num_samples=50, seed=1).pairs, ds.pairs)


# -- IDX ---------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    """The IDX encoding written by hand: 00 00 type ndim, big-endian sizes, big-endian data."""
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    head = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(big).tobytes()


@pytest.fixture
def mnist_like(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    pixels[0, 0, 0], pixels[0, 0, 1] = 0, 255
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    (tmp_path / "images-idx3-ubyte").write_bytes(idx_bytes(pixels, 0x08))
    (tmp_path / "labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    return tmp_path, pixels, labels


@pytest.mark.parametrize("type_code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                              (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)])
@pytest.mark.parametrize("zipped", [False, True])
def test_read_idx_round_trip(tmp_path, type_code, dtype, zipped):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    data = idx_bytes(array, type_code)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(data) if zipped else data)
    out = read_idx(path)
    assert out.dtype == dtype and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)


def test_idx_images_dataset(mnist_like):
    root, pixels, labels = mnist_like
    ds = IdxImages(images=str(root / "images-idx3-ubyte"), labels=str(root / "labels-idx1-ubyte.gz"))
    assert len(ds) == 5 and ds.num_classes == 6
    image, label = ds[0]["x"], ds[0]["label"]
    assert image.shape == (1, 28, 28) and label.item() == 3
    assert image[0, 0, 0].item() == -1.0 and image[0, 0, 1].item() == 1.0
    torch.testing.assert_close(image[0], torch.from_numpy(pixels[0] / 127.5 - 1).float())
    small = IdxImages(images=str(root / "images-idx3-ubyte"), labels=str(root / "labels-idx1-ubyte.gz"), image_size=32, limit=2)
    assert small.images.shape == (2, 1, 32, 32) and small.labels.tolist() == [3, 1]


def test_idx_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "train-images.idx"
    path.write_bytes(b"\x89PNG\r\n" + bytes(20))
    with pytest.raises(DataError, match=rf"{path}: not an IDX file: bad magic number 0x89504e47"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]))  # unknown type code
    with pytest.raises(DataError, match="bad magic number 0x00000701"):
        read_idx(path)


def test_idx_truncated_data_names_the_file(tmp_path):
    path = tmp_path / "labels.idx"
    path.write_bytes(idx_bytes(np.arange(10, dtype=np.uint8), 0x08)[:-3])
    with pytest.raises(DataError, match=rf"{path}: truncated: the header gives shape \(10,\) of uint8 \(10 bytes of data\) but 7 bytes follow it"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x08, 3, 0, 0]))
    with pytest.raises(DataError, match=r"truncated IDX header: 3 dimensions need 16 bytes, the file has 6"):
        read_idx(path)
    path.write_bytes(gzip.compress(idx_bytes(np.arange(4, dtype=np.uint8), 0x08))[:-6])
    with pytest.raises(DataError, match=rf"{path}: corrupt gzip data"):
        read_idx(path)
    with pytest.raises(DataError, match="IDX file not found"):
        read_idx(tmp_path / "missing.idx")


def test_idx_images_rejects_mismatched_files(mnist_like, tmp_path):
    root, pixels, _ = mnist_like
    short = tmp_path / "short-labels"
    short.write_bytes(idx_bytes(np.array([1, 2], dtype=np.uint8), 0x08))
    with pytest.raises(DataError, match=r"holds 2 labels but .*images-idx3-ubyte holds 5 images"):
        IdxImages(images=str(root / "images-idx3-ubyte"), labels=str(short))
    with pytest.raises(DataError, match=r"expected unsigned-byte images \(N, rows, columns\), got uint8 of shape \(2,\)"):
        IdxImages(images=str(short), labels=str(short))
