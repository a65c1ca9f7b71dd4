"""Cold start: ``import app`` against chalice + pynamodb + one botocore client, in fresh interpreters."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys

BASELINE = ("import chalice, pynamodb.models, botocore.session; "
            "botocore.session.get_session().create_client('dynamodb', region_name='us-east-1')")
APP = "import app"
PROBE = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def measure(code: str, runs: int) -> float:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "LINLI_STAGE": "prod", "PYTHONDONTWRITEBYTECODE": "0",
           "LINLI_JWT_SECRET_NAME": "linli/bench/jwt"}
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], capture_output=True, text=True,
                             env=env, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def run(runs: int = 9) -> tuple[float, float]:
    measure(APP, 1)  # compile bytecode once
    measure(BASELINE, 1)
    return measure(BASELINE, runs), measure(APP, runs)


def report(baseline: float, app: float) -> str:
    return (f"import baseline (chalice + pynamodb + 1 botocore client): {baseline * 1000:7.1f} ms (median)\n"
            f"import app:                                             {app * 1000:7.1f} ms (median)\n"
            f"ratio: {app / baseline:.2f}× (budget ≤ 1.30×)")
