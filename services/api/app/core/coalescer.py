"""Joins lone-record predictions that arrive while predict is busy into one batch call (micro-batching).

Under load most of the cost of a forwarded record is HTTP on both sides of the hop, not the model:
predict answers a 30-record batch for little more than one record. So while ``max_in_flight``
calls are out, records that arrive wait and leave together as one ``{"records": [...]}`` call,
and each caller gets back exactly the answer predict gives a lone record. When nothing is waiting,
a record goes alone and unchanged, so a quiet service adds no latency.

A batch refused as a request (422 for a bad record, 413 past predict's own limits) is sent again
record by record, so a bad record gets its own 422 and cannot spoil the others. A batch that
fails otherwise (predict down, slow, 5xx) gives each of its callers that same failure, as if each
had called alone.
"""

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

from services import logs
from services.api.app.core.predict_client import PredictAnswer, PredictCallError, PredictClient, PredictTimeoutError
from services.middleware import new_request_id

logger = logging.getLogger(__name__)

PREDICT_PATH = "/v1/predict"


@dataclass
class _Waiting:
    body: bytes
    request_id: str | None
    deadline: float
    answer: asyncio.Future = field(repr=False)


def _batch_body(bodies: list[bytes]) -> bytes:
    # Each body is one JSON object (the route checked it), so the batch is built without re-encoding.
    return b'{"records":[' + b",".join(bodies) + b"]}"


def _split(batch: PredictAnswer, size: int) -> list[PredictAnswer]:
    """One lone-record answer per record from predict's 200 batch answer, byte for byte as predict writes them."""
    document = batch.json()
    predictions = document["predictions"]
    if len(predictions) != size:
        raise ValueError(f"predict answered {len(predictions)} predictions for {size} records")
    head = {"model_name": document["model_name"], "model_version": document["model_version"]}
    return [
        PredictAnswer(HTTPStatus.OK, json.dumps({**head, "prediction": value}, separators=(",", ":")).encode())
        for value in predictions
    ]


class PredictCoalescer:
    """Sends lone records to predict, batching the ones that queue up behind calls in flight."""

    def __init__(self, client: PredictClient, max_records: int, max_in_flight: int, max_batch_bytes: int) -> None:
        """Wrap ``client``.

        Args:
            client: the pooled client to the predict service.
            max_records: the most records joined into one call (at most predict's batch limit).
            max_in_flight: calls out at once before records start to wait and join.
            max_batch_bytes: the largest joined body (below predict's body limit).
        """
        self.client = client
        self.max_records = max_records
        self.max_in_flight = max_in_flight
        self.max_batch_bytes = max_batch_bytes
        self.timeout = client.settings.predict_timeout_seconds
        self._waiting: deque[_Waiting] = deque()
        self._in_flight = 0
        self._calls: set[asyncio.Task] = set()  # referenced until done, so none is garbage-collected

    async def predict(self, body: bytes) -> PredictAnswer:
        """Predict's answer for the lone record ``body`` (one JSON object), as if it were sent alone.

        Raises:
            PredictCallError: as ``PredictClient.call`` does (unreachable, timed out, transport).
        """
        if self._in_flight < self.max_in_flight and not self._waiting:
            self._in_flight += 1
            self.client.metrics.coalesced_records.observe(1)
            try:
                return await self.client.call("POST", PREDICT_PATH, content=body)
            finally:
                self._call_done()
        loop = asyncio.get_running_loop()
        waiting = _Waiting(body, logs.request_id.get(), loop.time() + self.timeout, loop.create_future())
        self._waiting.append(waiting)
        self._send_waiting()
        return await waiting.answer

    def _call_done(self) -> None:
        self._in_flight -= 1
        self._send_waiting()

    def _send_waiting(self) -> None:
        while self._waiting and self._in_flight < self.max_in_flight:
            batch = [self._waiting.popleft()]
            size = len(batch[0].body)
            while (
                self._waiting
                and len(batch) < self.max_records
                and size + len(self._waiting[0].body) + 1 <= self.max_batch_bytes
            ):
                batch.append(self._waiting.popleft())
                size += len(batch[-1].body) + 1
            self._in_flight += 1
            task = asyncio.create_task(self._send(batch))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    async def _send(self, batch: list[_Waiting]) -> None:
        try:
            batch = [item for item in batch if not item.answer.done()]  # callers that went away
            if batch:
                self.client.metrics.coalesced_records.observe(len(batch))
                await self._answer(batch)
        finally:
            self._call_done()

    async def _answer(self, batch: list[_Waiting]) -> None:
        # The call may take what is left of the earliest caller's time, no more.
        remaining = min(item.deadline for item in batch) - asyncio.get_running_loop().time()
        if remaining <= 0:
            _settle(batch, error=PredictTimeoutError(f"predict service did not answer within {self.timeout:g}s"))
            return
        if len(batch) == 1:
            await self._alone(batch[0], remaining)
            return
        # Predict logs the joined call under an id of its own; at DEBUG, this line ties the
        # callers' ids to it (at INFO it was 3 % of the api's CPU under load: one line per call).
        logs.request_id.set(new_request_id())  # this task's own context
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "records joined into one predict call",
                extra={"records": len(batch), "joined_request_ids": [item.request_id for item in batch]},
            )
        body = _batch_body([item.body for item in batch])
        try:
            answer = await self.client.call("POST", PREDICT_PATH, content=body, timeout=round(remaining, 3))
        except PredictCallError as error:
            _settle(batch, error=error)
            return
        if answer.status_code == HTTPStatus.OK:
            try:
                answers = _split(answer, len(batch))
            except (ValueError, KeyError, TypeError) as error:
                _settle(batch, error=PredictCallError(f"predict answered a batch it was not asked for: {error}"))
                return
            _settle(batch, answers=answers)
        elif HTTPStatus.BAD_REQUEST <= answer.status_code < HTTPStatus.INTERNAL_SERVER_ERROR:
            # Refused as a request (a bad record: 422; past predict's own limits: 413): each alone.
            await asyncio.gather(*(self._alone(item, remaining) for item in batch))
        else:
            _settle(batch, answers=[answer] * len(batch))

    async def _alone(self, item: _Waiting, timeout: float) -> None:
        logs.request_id.set(item.request_id)  # this task's own context: predict logs the caller's id
        try:
            answer = await self.client.call("POST", PREDICT_PATH, content=item.body, timeout=round(timeout, 3))
        except PredictCallError as error:
            _settle([item], error=error)
            return
        _settle([item], answers=[answer])


def _settle(batch: list[_Waiting], answers: list[PredictAnswer] | None = None, error: Exception | None = None) -> None:
    for index, item in enumerate(batch):
        if item.answer.done():
            continue
        if error is not None:
            # One exception object per caller: each raise writes its own traceback into it.
            item.answer.set_exception(type(error)(error.detail) if isinstance(error, PredictCallError) else error)
        else:
            item.answer.set_result(answers[index])
