"""Derived features of the California housing table that help a tree model; pure and row-wise."""

import math
from typing import TYPE_CHECKING

import numpy as np

from data.contract import FEATURE_NAMES

if TYPE_CHECKING:  # the serving path works on numpy arrays and must not import pandas
    import pandas as pd

# Where the state's people and money are: distance to these centres separates the coastal
# metro prices from the inland ones better than raw latitude/longitude splits can.
CITIES: dict[str, tuple[float, float]] = {
    "LosAngeles": (34.0522, -118.2437),
    "SanFrancisco": (37.7749, -122.4194),
    "SanDiego": (32.7157, -117.1611),
    "SanJose": (37.3382, -121.8863),
}

# A coarse polyline of the Pacific coast, north to south, as (latitude, longitude). It is a
# proxy (bays such as San Francisco Bay are not traced), good to a few kilometres on the
# open coast, which is all a tree split needs.
COASTLINE: tuple[tuple[float, float], ...] = (
    (42.00, -124.21),
    (41.75, -124.20),
    (40.80, -124.17),
    (40.44, -124.41),
    (40.03, -124.07),
    (39.45, -123.81),
    (38.95, -123.74),
    (38.33, -123.05),
    (38.00, -123.02),
    (37.76, -122.51),
    (37.46, -122.44),
    (36.96, -122.02),
    (36.60, -121.89),
    (36.31, -121.90),
    (35.67, -121.28),
    (35.37, -120.86),
    (34.45, -120.47),
    (34.41, -119.69),
    (34.20, -119.25),
    (34.09, -119.06),
    (34.01, -118.50),
    (33.74, -118.41),
    (33.75, -118.19),
    (33.60, -117.88),
    (33.46, -117.70),
    (33.19, -117.38),
    (32.85, -117.27),
    (32.53, -117.12),
)

# Projections of (Longitude, Latitude) onto these directions, in degrees: a tree can only
# split along axes, so rotated coordinates let it cut the diagonal coast and Central Valley.
ROTATION_ANGLES: tuple[int, ...] = (30, 45, 60, 120, 135, 150)

_EARTH_RADIUS_KM = 6371.0
# Kilometres per degree for the planar projection used for the coast distance; the cosine
# is taken at the state's middle latitude, so the error stays small across California.
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON = 111.320 * math.cos(math.radians(37.0))

DERIVED_FEATURES: tuple[str, ...] = (
    "RoomsPerPerson",
    "BedroomsPerRoom",
    "Households",
    "IncomePerOccupant",
    *(f"RotatedCoord{angle}" for angle in ROTATION_ANGLES),
    *(f"DistTo{city}" for city in CITIES),
    "DistToNearestCity",
    "DistToCoast",
)

MODEL_FEATURES: tuple[str, ...] = (*FEATURE_NAMES, *DERIVED_FEATURES)


# The coast's segments as arrays (start point, direction, squared length) in the planar
# projection, so that distances to all segments are computed in one broadcast: per-call numpy
# overhead, not arithmetic, dominates for the one-row calls of the serving path.
_COAST_X = np.array([lon for _, lon in COASTLINE]) * _KM_PER_DEG_LON
_COAST_Y = np.array([lat for lat, _ in COASTLINE]) * _KM_PER_DEG_LAT
_SEG_AX, _SEG_AY = _COAST_X[:-1], _COAST_Y[:-1]
_SEG_DX, _SEG_DY = _COAST_X[1:] - _SEG_AX, _COAST_Y[1:] - _SEG_AY
_SEG_LENGTH2 = _SEG_DX * _SEG_DX + _SEG_DY * _SEG_DY
_CITY_PHI = np.radians([lat for lat, _ in CITIES.values()])
_CITY_LAMBDA = np.radians([lon for _, lon in CITIES.values()])


def _haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance in km from each (lat, lon) to each of CITIES: an (n, len(CITIES)) array."""
    phi = np.radians(lat)[:, None]
    dphi = phi - _CITY_PHI
    dlambda = np.radians(lon)[:, None] - _CITY_LAMBDA
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi) * np.cos(_CITY_PHI) * np.sin(dlambda / 2.0) ** 2
    return 2.0 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _distance_to_coast_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Shortest planar distance in km from each point to the COASTLINE polyline."""
    x = (lon * _KM_PER_DEG_LON)[:, None]
    y = (lat * _KM_PER_DEG_LAT)[:, None]
    t = np.clip(((x - _SEG_AX) * _SEG_DX + (y - _SEG_AY) * _SEG_DY) / _SEG_LENGTH2, 0.0, 1.0)
    return np.hypot(x - (_SEG_AX + t * _SEG_DX), y - (_SEG_AY + t * _SEG_DY)).min(axis=1, initial=np.inf)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Numerator / denominator, NaN where the denominator is not positive (never inf)."""
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _derive(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The DERIVED_FEATURES (float64 arrays) from the raw float64 feature columns."""
    lat, lon = raw["Latitude"], raw["Longitude"]
    derived: dict[str, np.ndarray] = {
        "RoomsPerPerson": _ratio(raw["AveRooms"], raw["AveOccup"]),
        "BedroomsPerRoom": _ratio(raw["AveBedrms"], raw["AveRooms"]),
        "Households": _ratio(raw["Population"], raw["AveOccup"]),
        "IncomePerOccupant": _ratio(raw["MedInc"], raw["AveOccup"]),
    }
    for angle in ROTATION_ANGLES:
        theta = math.radians(angle)
        derived[f"RotatedCoord{angle}"] = lon * math.cos(theta) + lat * math.sin(theta)
    city_distances = _haversine_km(lat, lon)
    for index, city in enumerate(CITIES):
        derived[f"DistTo{city}"] = city_distances[:, index]
    derived["DistToNearestCity"] = city_distances.min(axis=1, initial=np.inf)
    derived["DistToCoast"] = _distance_to_coast_km(lat, lon)
    return {name: np.asarray(derived[name], dtype="float64") for name in DERIVED_FEATURES}


def feature_matrix(raw: np.ndarray) -> np.ndarray:
    """The MODEL_FEATURES matrix of raw rows: the serving path's form of :func:`add_features`.

    The same arithmetic as :func:`add_features` on plain arrays, without building a DataFrame
    (which costs more than the maths for one row).

    Args:
        raw: an (n, 8) array whose columns are the contract's FEATURE_NAMES, in that order.

    Returns:
        An (n, len(MODEL_FEATURES)) float64 array, columns in MODEL_FEATURES order.

    Raises:
        ValueError: when ``raw`` is not a 2-D array of len(FEATURE_NAMES) numeric columns.
    """
    raw = np.asarray(raw)
    if raw.ndim != 2 or raw.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"feature_matrix needs an (n, {len(FEATURE_NAMES)}) array, got shape {raw.shape}")
    try:
        raw = raw.astype("float64", copy=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"raw features are not numeric: {error}") from error
    out = np.empty((raw.shape[0], len(MODEL_FEATURES)), dtype="float64")
    out[:, : len(FEATURE_NAMES)] = raw
    columns = {name: out[:, index] for index, name in enumerate(FEATURE_NAMES)}
    for offset, values in enumerate(_derive(columns).values()):
        out[:, len(FEATURE_NAMES) + offset] = values
    return out


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the raw columns as float64 plus the DERIVED_FEATURES appended.

    Pure and row-wise: each output row depends only on the same input row, so one row gives
    the same values as it does inside the full table. Other columns (e.g. the target) pass
    through unchanged; the input frame is not modified.

    Args:
        frame: a table holding at least the contract's 8 raw feature columns (numeric).

    Raises:
        ValueError: when a raw feature column is missing or is not numeric.
    """
    missing = [name for name in FEATURE_NAMES if name not in frame.columns]
    if missing:
        raise ValueError(f"add_features needs the raw columns {', '.join(missing)}; got {list(frame.columns)}")
    out = frame.copy()
    for name in FEATURE_NAMES:
        try:
            out[name] = out[name].astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(f"column {name!r} is not numeric: {error}") from error
    for name, values in _derive({name: out[name].to_numpy() for name in FEATURE_NAMES}).items():
        out[name] = values
    return out
