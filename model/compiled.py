"""The compiled model: fitted trees flattened into model.trees and evaluated by the C library libtreeeval.so.

The scikit-learn estimator (model.skops) stays the source of truth. ``export_tables`` flattens
its trees into a byte-deterministic file; ``CompiledModel`` evaluates that file with
``treeeval.c`` (built by //model:treeeval) through ctypes. Serving then needs numpy only: no
pandas, scikit-learn or skops at start-up or per request. The training action refuses to write
an artifact whose compiled predictions differ from sklearn's (``check_equal``).
"""

import ctypes
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from data.contract import FEATURE_NAMES
from data.feature_engineering import MODEL_FEATURES, feature_matrix
from model.artifact import MODEL_FILE, read_signature, version_of

TABLES_FILE = "model.trees"
# Largest difference from sklearn's predictions the build accepts (the sums are the same
# doubles in the same order, so the measured difference is 0; the bound leaves room only for
# the mean over ensemble members).
TOLERANCE = 1e-9

_MAGIC = b"MLTREES\x01"
_LIBRARY = Path(__file__).with_name("libtreeeval.so")
# Matches node_t in treeeval.c: 16 bytes, little-endian.
NODE_DTYPE = np.dtype([("threshold", "<f8"), ("feature", "<i4"), ("child", "<i4")])
_MISSING_RIGHT = 1 << 16


class CompiledModelError(ValueError):
    """The model cannot be compiled, or a model.trees file is corrupt or does not match its signature."""


def _flatten_tree(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One sklearn TreePredictor's node records as (NODE_DTYPE nodes, values, depth), breadth-first.

    Breadth-first numbering puts each node's two children next to each other, so a node needs
    one child index (right = left + 1). Leaves point at themselves (see node_t in treeeval.c).
    """
    out = np.zeros(len(nodes), dtype=NODE_DTYPE)
    values = np.zeros(len(nodes), dtype="<f8")
    index = {0: 0}
    level = {0: 0}
    queue = [0]
    next_free = 1
    for old in queue:
        node = nodes[old]
        new = index[old]
        if node["is_leaf"]:
            out[new] = (np.nan, _MISSING_RIGHT, new - 1)
            values[new] = float(node["value"])
            continue
        if node["is_categorical"]:
            raise CompiledModelError("categorical splits are not supported by the compiled model")
        feature = int(node["feature_idx"])
        if not 0 <= feature < _MISSING_RIGHT:
            raise CompiledModelError(f"feature index {feature} out of range")
        left, right = int(node["left"]), int(node["right"])
        index[left], index[right] = next_free, next_free + 1
        level[left] = level[right] = level[old] + 1
        queue += [left, right]
        code = feature | (0 if node["missing_go_to_left"] else _MISSING_RIGHT)
        out[new] = (float(node["num_threshold"]), code, next_free)
        next_free += 2
    if next_free != len(nodes):
        raise CompiledModelError(f"tree has {len(nodes)} nodes but {next_free} are reachable from its root")
    return out, values, max(level.values())


def _member_tables(estimator: Any) -> dict[str, Any]:
    """Baseline and flattened trees of one fitted HistGradientBoostingRegressor."""
    if type(estimator).__name__ != "HistGradientBoostingRegressor":
        raise CompiledModelError(f"cannot compile a {type(estimator).__name__}")
    if getattr(estimator, "loss", None) != "squared_error":
        raise CompiledModelError(f"cannot compile loss {estimator.loss!r} (only squared_error has no link function)")
    baseline = np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel()
    if baseline.shape != (1,) or any(len(trees) != 1 for trees in estimator._predictors):
        raise CompiledModelError("only single-output regression is supported")
    trees = [_flatten_tree(trees[0].nodes) for trees in estimator._predictors]
    return {"baseline": float(baseline[0]), "trees": trees}


def export_tables(estimator: Any, n_features: int = len(MODEL_FEATURES)) -> bytes:
    """Flatten a fitted estimator into model.trees bytes (the same estimator always gives the same bytes).

    Supports a HistGradientBoostingRegressor with squared-error loss, or a VotingRegressor
    averaging such estimators without weights.

    Layout: magic, little-endian uint32 header length, a JSON header (n_features, and per member
    its baseline, tree count and node count), then per member its int32 root indices and tree
    depths, its NODE_DTYPE nodes and its float64 node values (8-byte aligned).

    Raises:
        CompiledModelError: for an estimator this format cannot express.
    """
    if type(estimator).__name__ == "VotingRegressor":
        if estimator.weights is not None:
            raise CompiledModelError("a weighted VotingRegressor is not supported")
        members = [_member_tables(member) for member in estimator.estimators_]
    else:
        members = [_member_tables(estimator)]
    header = {
        "format": 1,
        "n_features": int(n_features),
        "members": [
            {"baseline": m["baseline"], "n_trees": len(m["trees"]), "n_nodes": sum(len(t[0]) for t in m["trees"])}
            for m in members
        ],
    }
    header_bytes = json.dumps(header, sort_keys=True).encode()
    # Pad so the arrays after the header start 8-byte aligned in the file.
    header_bytes += b" " * (-(len(_MAGIC) + 4 + len(header_bytes)) % 8)
    parts = [_MAGIC, struct.pack("<I", len(header_bytes)), header_bytes]
    for member in members:
        sizes = np.array([len(nodes) for nodes, _, _ in member["trees"]], dtype="<i4")
        roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype("<i4")
        depths = np.array([depth for _, _, depth in member["trees"]], dtype="<i4")
        nodes = np.concatenate([nodes for nodes, _, _ in member["trees"]])
        values = np.concatenate([values for _, values, _ in member["trees"]])
        # Child indices become absolute positions in the member's concatenated node array.
        nodes["child"] += np.repeat(roots, sizes)
        index_bytes = roots.tobytes() + depths.tobytes()
        parts += [index_bytes, b"\0" * (-len(index_bytes) % 8), nodes.tobytes(), values.tobytes()]
    return b"".join(parts)


@dataclass(frozen=True)
class _Member:
    baseline: float
    roots: np.ndarray
    depths: np.ndarray
    nodes: np.ndarray
    values: np.ndarray


def _parse_tables(data: bytes) -> tuple[int, list[_Member]]:
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
        raise CompiledModelError(f"{TABLES_FILE} is not a compiled tree file")
    (length,) = struct.unpack_from("<I", data, len(_MAGIC))
    offset = len(_MAGIC) + 4
    try:
        header = json.loads(data[offset : offset + length])
        n_features = int(header["n_features"])
        specs = [(float(m["baseline"]), int(m["n_trees"]), int(m["n_nodes"])) for m in header["members"]]
    except (ValueError, KeyError, TypeError) as error:
        raise CompiledModelError(f"{TABLES_FILE} has a corrupt header: {error}") from error
    offset += length
    members = []
    for baseline, n_trees, n_nodes in specs:
        index_size = 8 * n_trees
        nodes_at = offset + index_size + (-index_size % 8)
        values_at = nodes_at + NODE_DTYPE.itemsize * n_nodes
        end = values_at + 8 * n_nodes
        if end > len(data) or n_trees < 1:
            raise CompiledModelError(f"{TABLES_FILE} is truncated")
        roots = np.frombuffer(data, dtype="<i4", count=n_trees, offset=offset).copy()
        depths = np.frombuffer(data, dtype="<i4", count=n_trees, offset=offset + 4 * n_trees).copy()
        nodes = np.frombuffer(data, dtype=NODE_DTYPE, count=n_nodes, offset=nodes_at).copy()
        values = np.frombuffer(data, dtype="<f8", count=n_nodes, offset=values_at).copy()
        offset = end
        features, children = nodes["feature"], nodes["child"]
        # The C loop trusts these indices; a corrupt file must fail here, not read out of bounds.
        if (
            (roots < 0).any()
            or (roots >= n_nodes).any()
            or (depths < 0).any()
            or ((features & 0xFFFF) >= n_features).any()
            or (features < 0).any()
            or (children < -1).any()
            or (children + 1 >= n_nodes).any()
            or (features > (_MISSING_RIGHT | 0xFFFF)).any()
        ):
            raise CompiledModelError(f"{TABLES_FILE} holds out-of-range node references")
        members.append(_Member(baseline, roots, depths, nodes, values))
    if offset != len(data):
        raise CompiledModelError(f"{TABLES_FILE} has {len(data) - offset} trailing bytes")
    return n_features, members


class _MemberStruct(ctypes.Structure):
    """member_t in treeeval.c: one ensemble member's table addresses and tree count (its trees_t), then its baseline.

    Flat here, nested there: the same layout (the trees_t fields take 40 bytes, the baseline follows at 40).
    """

    _fields_ = (
        ("nodes", ctypes.c_void_p),
        ("values", ctypes.c_void_p),
        ("roots", ctypes.c_void_p),
        ("depths", ctypes.c_void_p),
        ("n_trees", ctypes.c_int32),
        ("baseline", ctypes.c_double),
    )


def _load_library(path: Path = _LIBRARY) -> ctypes.CDLL:
    try:
        library = ctypes.CDLL(str(path))
    except OSError as error:
        raise CompiledModelError(f"cannot load the tree evaluator {path}: {error}") from error
    function = library.treeeval_predict
    function.restype = None
    function.argtypes = [
        ctypes.POINTER(_MemberStruct),
        ctypes.c_int32,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int32,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int32,
    ]
    return library


class CompiledTrees:
    """A model.trees file loaded for evaluation; ``predict`` takes MODEL_FEATURES rows."""

    def __init__(self, data: bytes, library: Path = _LIBRARY, threads: int = 1) -> None:
        """Parse ``data`` (model.trees bytes) and load the evaluator library.

        Args:
            data: the model.trees bytes.
            library: the evaluator (libtreeeval.so).
            threads: most threads one ``predict`` call uses; the evaluator gives each thread at
                least 128 rows, so small batches always run on the calling thread alone. The
                predictions do not depend on it.

        Raises:
            CompiledModelError: when the bytes are not a valid tree file or the library does not load.
        """
        self.n_features, self._members = _parse_tables(data)
        self._predict = _load_library(library).treeeval_predict
        self.n_trees = sum(len(member.roots) for member in self._members)
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.threads = threads
        # Each member's table addresses, tree count and baseline, worked out once: building them
        # per call (``.ctypes.data``) cost more than evaluating one row. The arrays live as long
        # as self.
        self._tables = (_MemberStruct * len(self._members))(
            *(
                _MemberStruct(
                    member.nodes.ctypes.data,
                    member.values.ctypes.data,
                    member.roots.ctypes.data,
                    member.depths.ctypes.data,
                    len(member.roots),
                    member.baseline,
                )
                for member in self._members
            )
        )

    def predict(self, features: np.ndarray) -> np.ndarray:
        """One prediction per row of ``features`` ((n, n_features) float64, MODEL_FEATURES order).

        Raises:
            ValueError: when ``features`` has the wrong shape.
        """
        x = np.ascontiguousarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected an (n, {self.n_features}) feature array, got shape {x.shape}")
        rows = x.shape[0]
        out = np.empty(rows, dtype=np.float64)
        # One call for all members: the GIL is released for the whole prediction and taken back
        # once (a thread waiting for it behind a busy event loop waited once per member).
        # VotingRegressor: np.average over the members' columns, which for fewer than 8 members
        # adds them left to right and divides, as treeeval_predict does (the equality gate
        # checks it on every build).
        scratch = np.empty(rows if len(self._members) > 1 else 0, dtype=np.float64)
        self._predict(
            self._tables,
            len(self._members),
            x.ctypes.data,
            rows,
            self.n_features,
            out.ctypes.data,
            scratch.ctypes.data,
            self.threads,
        )
        return out


def check_equal(compiled: CompiledTrees, reference: np.ndarray, features: np.ndarray) -> float:
    """The largest |compiled - reference| over ``features``' rows.

    Raises:
        CompiledModelError: when it exceeds TOLERANCE (or a prediction is not finite).
    """
    predicted = compiled.predict(features)
    reference = np.asarray(reference, dtype=np.float64)
    difference = np.abs(predicted - reference)
    worst = float(difference.max()) if len(difference) else 0.0
    if not np.isfinite(difference).all() or worst > TOLERANCE:
        raise CompiledModelError(
            f"compiled predictions differ from sklearn's by up to {worst:.3g} (> {TOLERANCE:g}) "
            f"on {int((difference > TOLERANCE).sum())} of {len(difference)} rows"
        )
    return worst


@dataclass(frozen=True)
class CompiledModel:
    """The serving form of an artifact: signature.json plus model.trees, predicting from raw inputs.

    Attributes:
        trees: the loaded tree tables.
        signature: the parsed signature.json.
        directory: where the artifact was loaded from.
    """

    trees: CompiledTrees
    signature: dict[str, Any]
    directory: Path

    @property
    def version(self) -> str:
        """The model version (from signature.json; the sha256 prefix of model.skops)."""
        return str(self.signature["model_version"])

    @staticmethod
    def features(raw: np.ndarray) -> np.ndarray:
        """The MODEL_FEATURES matrix of an (n, 8) array of the signature's inputs, in signature order."""
        return feature_matrix(raw)

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Predict the target from a matrix made by :meth:`features`."""
        return self.trees.predict(features)

    def predict(self, raw: np.ndarray) -> np.ndarray:
        """Predict the target for an (n, 8) array of the signature's inputs, in signature order."""
        return self.predict_features(self.features(raw))


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def signature_entry(tables: bytes, worst: float, rows_checked: int) -> dict[str, Any]:
    """The ``compiled`` entry of signature.json for model.trees bytes that passed ``check_equal``.

    Args:
        tables: the model.trees bytes.
        worst: the largest difference from sklearn that ``check_equal`` measured.
        rows_checked: how many rows it was measured on.
    """
    return {
        "file": TABLES_FILE,
        "sha256": sha256_hex(tables),
        "max_abs_difference": worst,
        "rows_checked": rows_checked,
    }


def load_compiled(directory: str | os.PathLike, threads: int = 1) -> CompiledModel:
    """Load the compiled model of the artifact ``directory`` (from //model:model) and check it belongs to it.

    Args:
        directory: the artifact directory.
        threads: most threads one prediction call uses (see ``CompiledTrees``).

    Raises:
        CompiledModelError: when model.trees is missing, corrupt, not the file the signature
            names (sha256), or the signature's inputs/features are not the ones this code computes;
            or when model.skops (the source of truth, hashed but not loaded) is not the signature's.
    """
    directory = Path(directory)
    signature = read_signature(directory)
    try:
        model_bytes = (directory / MODEL_FILE).read_bytes()
    except OSError as error:
        raise CompiledModelError(f"cannot read {directory / MODEL_FILE}: {error}") from error
    if version_of(model_bytes) != signature["model_version"]:
        raise CompiledModelError(
            f"{MODEL_FILE} has version {version_of(model_bytes)} but signature.json says "
            f"{signature['model_version']}: the files do not belong together"
        )
    compiled = signature.get("compiled")
    expected = compiled.get("sha256") if isinstance(compiled, dict) else None
    if not expected:
        raise CompiledModelError(f"signature.json in {directory} names no compiled model: rebuild //model:model")
    try:
        data = (directory / TABLES_FILE).read_bytes()
    except OSError as error:
        raise CompiledModelError(f"cannot read {directory / TABLES_FILE}: {error}") from error
    if sha256_hex(data) != expected:
        raise CompiledModelError(f"{TABLES_FILE} in {directory} is not the file signature.json names (sha256 differs)")
    inputs = [item["name"] for item in signature["inputs"]]
    if inputs != list(FEATURE_NAMES) or list(signature["model_features"]) != list(MODEL_FEATURES):
        raise CompiledModelError(
            "signature.json's inputs or model_features differ from this code's feature engineering: retrain the model"
        )
    trees = CompiledTrees(data, threads=threads)
    if trees.n_features != len(MODEL_FEATURES):
        raise CompiledModelError(f"{TABLES_FILE} expects {trees.n_features} features, not {len(MODEL_FEATURES)}")
    return CompiledModel(trees=trees, signature=signature, directory=directory)
