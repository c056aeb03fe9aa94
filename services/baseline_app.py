"""The load benchmark's ceiling: the smallest FastAPI app on uvicorn (httptools, uvloop), one JSON endpoint.

Run by //services:loadtest next to the real services, so their throughput is printed as a ratio
of what the framework alone reaches on the same machine at the same moment.
"""

import argparse
import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.post("/v1/predict")
async def predict(record: dict[str, float]) -> dict[str, float]:
    """Answer a constant for any JSON object of numbers: parsing and serialising only."""
    return {"prediction": float(len(record))}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    """Ready as soon as it listens."""
    return {"status": "ready"}


def main(argv: list[str] | None = None) -> int:
    """Serve on --host/--port until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", loop="uvloop", http="httptools")
    return 0


if __name__ == "__main__":
    sys.exit(main())
