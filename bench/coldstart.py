"""Cold start: ``import app`` against chalice + pynamodb + one botocore client, in fresh interpreters."""
from __future__ import annotations

import os
import subprocess
import sys

BASELINE = ("import chalice, pynamodb.models, botocore.session; "
            "botocore.session.get_session().create_client('dynamodb', region_name='us-east-1')")
APP = "import app"
PROBE = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def once(code: str) -> float:
    # a fresh prod container: none of the local stack's settings
    own = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "AWS_ENDPOINT"))}
    env = {**own, "AWS_DEFAULT_REGION": "us-east-1", "LINLI_STAGE": "prod", "PYTHONDONTWRITEBYTECODE": "0",
           "LINLI_JWT_SECRET_NAME": "linli/bench/jwt"}
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], capture_output=True, text=True, env=env,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(runs: int = 15) -> tuple[float, float]:
    """Fastest of alternating runs: noise on a shared VM only ever adds time, so the minimum is the
    steadiest estimate of what the import itself costs (and load weighs on both sides alike)."""
    once(APP), once(BASELINE)  # compile bytecode once
    baseline, app = [], []
    for _ in range(runs):
        baseline.append(once(BASELINE))
        app.append(once(APP))
    return min(baseline), min(app)


def report(baseline: float, app: float) -> str:
    return (f"import baseline (chalice + pynamodb + 1 botocore client): {baseline * 1000:7.1f} ms (fastest of 15)\n"
            f"import app:                                             {app * 1000:7.1f} ms (fastest of 15)\n"
            f"ratio: {app / baseline:.2f}× (budget ≤ 1.30×)")
