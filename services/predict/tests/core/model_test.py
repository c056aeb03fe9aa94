"""Unit tests of the model service: loading, and batching concurrent requests into model calls."""

import asyncio
import itertools
import subprocess
import sys

import numpy as np
import pandas as pd

from model.artifact import load_model
from model.testing import synthetic_raw
from services.predict.app.core.metrics import PredictMetrics
from services.predict.app.core.model import ModelService

FIELDS = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]


def test_concurrent_requests_get_their_own_rows_back(model_dir):
    frame = synthetic_raw(60, seed=3)[FIELDS]
    direct = load_model(model_dir).predict(frame)
    metrics = PredictMetrics()
    service = ModelService(model_dir, metrics, max_rows_per_call=25)
    service.load()
    assert service.ready, service.reason
    matrix = frame.to_numpy()
    # Requests of 1..5 rows, all queued at once: answers must map back to the right rows.
    bounds = np.cumsum([0, 1, 5, 2, 7, 1, 3, 4, 5, 2, 1, 4, 3, 5, 2, 1, 5, 3, 2, 4, 0])[:-1]
    parts = [matrix[start:end] for start, end in itertools.pairwise(bounds)]

    async def run() -> list[np.ndarray]:
        await service.start()
        try:
            return await asyncio.gather(*(service.predict(part) for part in parts))
        finally:
            await service.stop()

    results = asyncio.run(run())
    np.testing.assert_allclose(np.concatenate(results), direct[: bounds[-1]])
    calls = metrics.model_call_rows.collect()[0]
    count = next(sample.value for sample in calls.samples if sample.name.endswith("_count"))
    # Batched: fewer model calls than requests, and none above the row cap.
    assert 1 <= count < len(parts)
    le_25 = next(sample.value for sample in calls.samples if sample.labels.get("le") == "25.0")
    assert le_25 == count


def test_matrix_handed_to_the_model_has_signature_columns(model_dir):
    service = ModelService(model_dir, PredictMetrics())
    service.load()
    assert service.ready, service.reason
    assert list(service.validator.names) == FIELDS
    probe = service.probe_matrix(service.validator)
    frame = pd.DataFrame(probe, columns=FIELDS)
    assert service.validator.validate([frame.iloc[0].to_dict()]).shape == (1, 8)
    # The served (compiled) prediction is the sklearn estimator's on the same record.
    np.testing.assert_allclose(
        service._call(service.model, service.validator, probe), load_model(model_dir).predict(frame)
    )


def test_serving_does_not_import_pandas_or_sklearn(model_dir):
    code = (
        "import sys; from services.predict.app.core.model import ModelService;"
        "from services.predict.app.core.metrics import PredictMetrics;"
        f"s = ModelService(__import__('pathlib').Path({str(model_dir)!r}), PredictMetrics()); s.load();"
        "assert s.ready, s.reason;"
        "print(sorted(m for m in ('pandas', 'sklearn', 'skops', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
