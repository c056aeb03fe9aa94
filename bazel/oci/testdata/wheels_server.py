"""A FastAPI + scikit-learn service that proves compiled wheels import and run on the Python base image."""

import os

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.linear_model import LinearRegression


class Rows(BaseModel):
    """Feature rows to predict."""

    x: list[float]


def create_app() -> FastAPI:
    """Fits y = 2x + 1 on startup and serves predictions."""
    app = FastAPI(title="wheels_server")
    frame = pd.DataFrame({"x": np.arange(10, dtype="float64")})
    model = LinearRegression().fit(frame, 2 * frame["x"] + 1)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> dict:
        return {"ready": True, "numpy": np.__version__, "pandas": pd.__version__}

    @app.post("/predict")
    def predict(rows: Rows) -> dict:
        predictions = model.predict(pd.DataFrame({"x": rows.x}))
        return {"predictions": [round(float(p), 6) for p in predictions]}

    return app


def main() -> None:
    """Serves on 127.0.0.1:$WHEELS_PORT (default 8080)."""
    uvicorn.run(create_app(), host="127.0.0.1", port=int(os.environ.get("WHEELS_PORT", "8080")))


if __name__ == "__main__":
    main()
