"""Validation of prediction records against the model signature's inputs, column by column."""

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

# Most errors one 422 answer lists; a 1,000-row batch of garbage should not produce a huge body.
MAX_REPORTED_ERRORS = 50

_NUMBER_TYPES = frozenset({int, float})


class RecordValidationError(ValueError):
    """Raised when records do not match the signature; ``errors`` lists each problem."""

    def __init__(self, errors: list[dict[str, Any]], total: int | None = None) -> None:
        self.errors = errors[:MAX_REPORTED_ERRORS]
        self.total = len(errors) if total is None else total
        super().__init__(f"{self.total} invalid field(s)")


@dataclass(frozen=True)
class Field:
    """One input of the signature: its name, whether it is required and its inclusive range."""

    name: str
    required: bool
    minimum: float
    maximum: float


def _error(loc: list[Any], kind: str, msg: str) -> dict[str, Any]:
    return {"loc": loc, "type": kind, "msg": msg}


def _as_float64(values: list[Any]) -> np.ndarray:
    """``values`` as a float64 array; integers beyond float64's range become +-inf (then refused as non-finite).

    JSON integers are unbounded in Python (a 401-digit one parses fine) and would overflow.
    """
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        for index, value in enumerate(values):
            if type(value) is int and abs(value) > sys.float_info.max:
                values[index] = math.inf if value > 0 else -math.inf
        return np.array(values, dtype=np.float64)


class RecordValidator:
    """Checks records (JSON objects) against signature inputs and returns them as one float64 matrix.

    The common case (every record valid) costs a few vectorised passes per column; per-record
    work is done only to explain a failure.
    """

    def __init__(self, inputs: list[dict[str, Any]]) -> None:
        """Build a validator.

        Args:
            inputs: the signature's "inputs" list: dicts with name, dtype, minimum, maximum, required.

        Raises:
            ValueError: when an input has a dtype this service cannot check.
        """
        fields = []
        for item in inputs:
            if item.get("dtype", "float64") not in ("float64", "float32", "int64"):
                raise ValueError(f"signature input {item.get('name')!r} has unsupported dtype {item.get('dtype')!r}")
            fields.append(
                Field(
                    name=str(item["name"]),
                    required=bool(item.get("required", True)),
                    minimum=float(item["minimum"]) if item.get("minimum") is not None else -math.inf,
                    maximum=float(item["maximum"]) if item.get("maximum") is not None else math.inf,
                )
            )
        self.fields: tuple[Field, ...] = tuple(fields)
        self.names: tuple[str, ...] = tuple(field.name for field in fields)
        self._known = frozenset(self.names)

    def validate(self, records: list[Any], loc: tuple[Any, ...] = ("body", "records")) -> np.ndarray:
        """Return the records as an (n, len(inputs)) float64 array, columns in signature order.

        Args:
            records: the decoded JSON records.
            loc: where the records sit in the request body, prefixed to each error's location.

        Raises:
            RecordValidationError: when any record is not an object, lacks a required field, has
                an unknown field, a non-numeric value or a value outside the input's range.
        """
        if len(records) == 1 and (row := self._plain_row(records[0])) is not None:
            return np.array([row], dtype=np.float64)
        return self._validate_columns(records, loc)

    def _validate_columns(self, records: list[Any], loc: tuple[Any, ...]) -> np.ndarray:
        """The general path of ``validate``: column by column in numpy, explaining every error."""
        errors: list[dict[str, Any]] = []
        if not all(type(record) is dict for record in records):
            for index, record in enumerate(records):
                if type(record) is not dict:
                    errors.append(_error([*loc, index], "dict_type", "each record must be a JSON object"))
            raise RecordValidationError(errors)

        unknown = set().union(*records) - self._known if records else set()
        if unknown:
            for index, record in enumerate(records):
                for key in sorted(record.keys() - self._known):
                    errors.append(
                        _error(
                            [*loc, index, key],
                            "extra_forbidden",
                            f"unknown field; expected one of: {', '.join(self.names)}",
                        )
                    )
                    if len(errors) > MAX_REPORTED_ERRORS:
                        break

        matrix = np.empty((len(records), len(self.fields)), dtype=np.float64)
        for column, field in enumerate(self.fields):
            values = [record.get(field.name) for record in records]
            missing = None
            if not set(map(type, values)) <= _NUMBER_TYPES:
                problems = self._explain_types(field, values, loc)
                if problems:
                    errors.extend(problems)
                    continue
                # Only absent optional fields are left: they become NaN, which the model treats as missing.
                missing = np.array([value is None for value in values])
                values = [math.nan if value is None else value for value in values]
            array = _as_float64(values)
            bad = ~np.isfinite(array) | (array < field.minimum) | (array > field.maximum)
            if missing is not None:
                bad &= ~missing
            if bad.any():
                for index in np.flatnonzero(bad)[: MAX_REPORTED_ERRORS + 1].tolist():
                    errors.append(self._explain_value(field, values[index], [*loc, index, field.name]))
            matrix[:, column] = array
        if errors:
            raise RecordValidationError(errors)
        return matrix

    def _plain_row(self, record: Any) -> list[float] | None:
        """A lone record's values in column order when every field is present and valid; else None.

        Plain Python: for one record the column-wise numpy passes below cost ~20x more than
        these comparisons. None sends the record down the general path, which explains any error.
        """
        if type(record) is not dict or len(record) != len(self.fields):
            return None
        row = []
        for field in self.fields:
            value = record.get(field.name)
            if type(value) not in _NUMBER_TYPES:
                return None  # absent, or not a number
            try:
                number = float(value)
            except OverflowError:
                return None  # an integer beyond float64's range
            if not (math.isfinite(number) and field.minimum <= number <= field.maximum):
                return None
            row.append(number)
        return row

    def _explain_types(self, field: Field, values: list[Any], loc: tuple[Any, ...]) -> list[dict[str, Any]]:
        errors = []
        for index, value in enumerate(values):
            where = [*loc, index, field.name]
            if value is None:
                if field.required:
                    errors.append(_error(where, "missing", "field required"))
            elif type(value) not in _NUMBER_TYPES:
                errors.append(_error(where, "float_type", f"must be a number, got {type(value).__name__}"))
            else:
                problem = self._explain_value(field, value, where)
                if problem["type"] != "ok":
                    errors.append(problem)
            if len(errors) > MAX_REPORTED_ERRORS:
                break
        return errors

    def _explain_value(self, field: Field, value: float, where: list[Any]) -> dict[str, Any]:
        # abs() first: math.isfinite() itself overflows on an integer beyond float64's range.
        if abs(value) > sys.float_info.max or not math.isfinite(value):
            return _error(where, "finite_number", "must be a finite number")
        if value < field.minimum:
            return _error(where, "greater_than_equal", f"must be >= {field.minimum:g}, got {value:g}")
        if value > field.maximum:
            return _error(where, "less_than_equal", f"must be <= {field.maximum:g}, got {value:g}")
        return _error(where, "ok", "")
