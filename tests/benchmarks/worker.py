"""Child process of the benchmarks: times one case and prints its result as JSON.

Run (by :func:`tests.benchmarks.common.run_case`, from the repository root):
    python -m tests.benchmarks.worker '{"module": "bench_ops", "contender": "gradkit_fwd_bwd", ...}'
"""
from tests.benchmarks.common import worker_main

if __name__ == "__main__":
    worker_main()
