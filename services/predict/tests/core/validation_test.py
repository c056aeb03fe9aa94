"""Unit tests of the signature-driven record validator."""

import math

import numpy as np
import pytest

from services.predict.app.core.validation import MAX_REPORTED_ERRORS, RecordValidationError, RecordValidator

INPUTS = [
    {"name": "a", "dtype": "float64", "minimum": 0.0, "maximum": 10.0, "required": True},
    {"name": "b", "dtype": "float64", "minimum": -1.0, "maximum": 1.0, "required": False},
]


def kinds(records) -> list[tuple]:
    with pytest.raises(RecordValidationError) as caught:
        RecordValidator(INPUTS).validate(records)
    return [(tuple(item["loc"][2:]), item["type"]) for item in caught.value.errors]


def test_valid_records_become_a_matrix_in_signature_order():
    matrix = RecordValidator(INPUTS).validate([{"b": 0.5, "a": 1}, {"a": 10.0, "b": -1}])
    assert matrix.dtype == np.float64
    assert matrix.tolist() == [[1.0, 0.5], [10.0, -1.0]]


def test_missing_optional_field_becomes_nan():
    matrix = RecordValidator(INPUTS).validate([{"a": 1.0}, {"a": 2.0, "b": None}, {"a": 3.0, "b": 0.0}])
    assert math.isnan(matrix[0, 1])
    assert math.isnan(matrix[1, 1])
    assert matrix[2, 1] == 0.0


def test_every_problem_is_reported_with_record_and_field():
    records = [{"a": 1.0}, {"b": 0.0}, {"a": "1"}, {"a": 11.0, "b": 2.0}, {"a": 1.0, "c": 1.0}, {"a": True}]
    assert sorted(kinds(records)) == sorted(
        [
            ((1, "a"), "missing"),
            ((2, "a"), "float_type"),
            ((3, "a"), "less_than_equal"),
            ((3, "b"), "less_than_equal"),
            ((4, "c"), "extra_forbidden"),
            ((5, "a"), "float_type"),
        ]
    )


def test_range_error_next_to_a_type_error_in_the_same_column_is_reported():
    assert sorted(kinds([{"a": "x"}, {"a": -3.0}])) == [((0, "a"), "float_type"), ((1, "a"), "greater_than_equal")]


def test_infinities_are_rejected():
    assert kinds([{"a": math.inf}]) == [((0, "a"), "finite_number")]


def test_error_list_is_capped():
    with pytest.raises(RecordValidationError) as caught:
        RecordValidator(INPUTS).validate([{"a": -1.0}] * 500)
    assert len(caught.value.errors) == MAX_REPORTED_ERRORS
    assert caught.value.total > MAX_REPORTED_ERRORS


def test_unsupported_dtype_is_refused():
    with pytest.raises(ValueError, match="unsupported dtype"):
        RecordValidator([{"name": "s", "dtype": "string", "minimum": 0, "maximum": 1}])


def test_missing_bounds_mean_unbounded():
    validator = RecordValidator([{"name": "x", "dtype": "float64", "minimum": None, "maximum": None}])
    assert validator.validate([{"x": -1e300}, {"x": 1e300}]).shape == (2, 1)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"b": 0.5, "a": 1}, None),
        ({"a": 10, "b": -1.0}, None),
        ({"a": 1.0}, None),  # optional field absent: the general path (NaN)
        ({"a": 1.0, "b": None}, None),
        ({"a": 11.0, "b": 0.0}, [(("a",), "less_than_equal")]),
        ({"a": math.nan, "b": 0.0}, [(("a",), "finite_number")]),
        ({"a": 10**400, "b": 0.0}, [(("a",), "finite_number")]),
        ({"a": True, "b": 0.0}, [(("a",), "float_type")]),
        ({"a": 1.0, "c": 0.0}, [(("c",), "extra_forbidden")]),
        ({"b": 0.0, "c": 0.0}, [(("a",), "missing"), (("c",), "extra_forbidden")]),
    ],
)
def test_a_lone_record_gets_the_same_answer_as_inside_a_batch(record, expected):
    # One record takes a plain-Python shortcut; a batch of two takes the column-wise path.
    validator = RecordValidator(INPUTS)
    if expected is None:
        alone = validator.validate([record])
        np.testing.assert_array_equal(alone, validator.validate([record, record])[:1])
        assert alone.dtype == np.float64
        assert alone.shape == (1, 2)
    else:
        assert sorted(kinds([record])) == sorted(((0, *loc), kind) for loc, kind in expected)
        assert sorted(kinds([record, {"a": 1.0, "b": 0.0}])) == sorted(((0, *loc), kind) for loc, kind in expected)
