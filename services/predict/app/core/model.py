"""The loaded model, whether it is ready and why not, and the dynamic batcher that feeds it."""

import asyncio
import contextlib
import logging
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from model.compiled import load_compiled
from services.predict.app.core.metrics import PredictMetrics
from services.predict.app.core.validation import RecordValidator

logger = logging.getLogger(__name__)

# Model calls of at most this many rows run on the event loop itself: a hop to the model thread
# and back (submit, wake-up, future callback) cost more CPU than the model itself for the
# batches 50 one-record clients make (py-spy: ~15 % of predict's CPU per request with 16).
INLINE_ROWS = 64

# How long the event loop may hold the GIL while the model thread waits for it (Python's
# default is 5 ms). The model thread needs the GIL back after each evaluator call, and the loop
# parsing a 1,000-record body held it that long each time: the trees of one batch took 33 ms
# instead of 15 ms beside a parsing loop; with 0.2 ms, 21 ms, and parsing was no slower.
GIL_SWITCH_INTERVAL_SECONDS = 0.0002


class ModelUnavailableError(RuntimeError):
    """Raised when a prediction is asked for while no model is loaded; the message says why."""


class ModelService:
    """Holds the model of one process and batches concurrent predictions into single model calls.

    Requests that arrive while the model is busy wait in a queue; the next call takes all of
    them (up to ``max_rows_per_call`` rows). An idle service therefore answers a lone request
    at once, and a loaded one pays the model's fixed per-call cost once per batch, not per
    request.
    """

    def __init__(
        self, model_dir: Path | None, metrics: PredictMetrics, max_rows_per_call: int = 4096, model_threads: int = 1
    ) -> None:
        """Create an empty service; call :meth:`load` then :meth:`start`.

        Args:
            model_dir: an artifact directory (signature.json and model.trees), or None.
            metrics: where model calls and predictions are counted.
            max_rows_per_call: most rows handed to the model in one call.
            model_threads: most threads one model call uses (only large batches use more than one).
        """
        self.model_dir = model_dir
        self.metrics = metrics
        self.max_rows_per_call = max_rows_per_call
        self.model_threads = model_threads
        self.model: Any = None
        self.signature: dict[str, Any] = {}
        self.validator: RecordValidator | None = None
        self.reason = "model not loaded yet"
        self._pending: deque[tuple[np.ndarray, asyncio.Future]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def ready(self) -> bool:
        """Whether a model is loaded (and answered its warm-up prediction)."""
        return self.model is not None

    def load(self) -> None:
        """Load the model and check it answers; on any failure record the reason and stay unready."""
        self.model, self.validator, self.signature = None, None, {}
        if self.model_dir is None:
            self.reason = "no model directory configured (set PREDICT_MODEL_DIR)"
        else:
            try:
                # The compiled trees (model.trees), not the sklearn estimator: serving needs numpy only.
                loaded = load_compiled(self.model_dir, threads=self.model_threads)
                validator = RecordValidator(loaded.signature["inputs"])
                probe = self.probe_matrix(validator)
                result = np.asarray(self._call(loaded, validator, probe))
                if result.shape != (1,) or not np.isfinite(result).all():
                    raise ValueError(f"warm-up prediction returned {result!r}")
            except Exception as error:  # noqa: BLE001 - any failure means "not ready", with the reason
                self.reason = f"cannot load model from {self.model_dir}: {type(error).__name__}: {error}"
            else:
                self.model, self.validator, self.signature = loaded, validator, loaded.signature
                self.reason = ""
        self.metrics.model_ready.set(1 if self.ready else 0)
        if self.ready:
            self.metrics.model_info.labels(model_name=self.name, model_version=self.version).set(1)
            logger.info("model loaded", extra={"model_version": self.version, "model_dir": str(self.model_dir)})
        else:
            logger.error("model not ready: %s", self.reason)

    @property
    def version(self) -> str:
        """The loaded model's version ("" when none)."""
        return str(getattr(self.model, "version", "") or self.signature.get("model_version", "")) if self.ready else ""

    @property
    def name(self) -> str:
        """The loaded model's name ("" when none)."""
        return str(self.signature.get("model_name", ""))

    @staticmethod
    def probe_matrix(validator: RecordValidator) -> np.ndarray:
        """One plausible record (each input at the middle of its range), for warm-up and readiness."""
        row = []
        for field in validator.fields:
            low = field.minimum if np.isfinite(field.minimum) else 0.0
            high = field.maximum if np.isfinite(field.maximum) else low
            row.append((low + high) / 2)
        return np.asarray([row], dtype=np.float64)

    @staticmethod
    def _call(model: Any, validator: RecordValidator, matrix: np.ndarray) -> np.ndarray:
        # The validator's columns are the signature's inputs in order, which load_compiled checked
        # are the raw features the compiled model's feature engineering expects.
        del validator
        return np.asarray(model.predict(matrix), dtype=np.float64)

    async def start(self) -> None:
        """Start the batching worker (call inside the running event loop)."""
        self._wakeup = asyncio.Event()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
        # One thread: model calls run one at a time, off the event loop, so requests keep being
        # read and queued while the model works (the C evaluator releases the GIL through ctypes).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._worker = asyncio.create_task(self._run(), name="model-batcher")

    async def stop(self) -> None:
        """Stop the worker; queued requests fail with ModelUnavailableError."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for _, future in self._pending:
            if not future.done():
                future.set_exception(ModelUnavailableError("service is shutting down"))
        self._pending.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Predict one value per row of ``matrix`` (columns in signature order).

        Raises:
            ModelUnavailableError: when no model is loaded or the worker is not running.
        """
        if not self.ready:
            raise ModelUnavailableError(self.reason)
        if self._worker is None or self._worker.done():
            raise ModelUnavailableError("prediction worker is not running")
        future = asyncio.get_running_loop().create_future()
        self._pending.append((matrix, future))
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, rows = [], 0
                while self._pending and (not batch or rows + len(self._pending[0][0]) <= self.max_rows_per_call):
                    item = self._pending.popleft()
                    batch.append(item)
                    rows += len(item[0])
                matrix = batch[0][0] if len(batch) == 1 else np.concatenate([item[0] for item in batch])
                started = time.perf_counter()
                try:
                    if rows <= INLINE_ROWS:
                        # Tens of microseconds: cheaper on the event loop than a hop to the model thread.
                        result = self._call(self.model, self.validator, matrix)
                    else:
                        # Features here, trees in the model thread: numpy's feature arithmetic
                        # takes the GIL in many short steps, and in the model thread each one
                        # waited behind this loop parsing requests (1,000-row batches: 73
                        # requests/s against 66).
                        features = self.model.features(matrix)
                        result = await loop.run_in_executor(self._executor, self.model.predict_features, features)
                    if result.shape != (rows,):
                        raise ValueError(f"model returned shape {result.shape} for {rows} rows")
                except Exception as error:  # noqa: BLE001 - handed to every waiting request
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.metrics.model_call_rows.observe(rows)
                self.metrics.model_call_seconds.observe(time.perf_counter() - started)
                self.metrics.predictions.observe_many(result)
                offset = 0
                for part, future in batch:
                    if not future.done():
                        future.set_result(result[offset : offset + len(part)])
                    offset += len(part)
