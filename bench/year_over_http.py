"""One year of all six endpoints from the simulator over loopback HTTP.

Prints the calls made against the minimum (sum of ceil(days / span)) and the time.
The full benchmark suite is issue 7; this is the figure quoted on issue 2.

    python bench/year_over_http.py
"""

from __future__ import annotations

import math
import time

import wxframe
from wxframe.simulator import serve

BEGIN, END = "2023-06-01", "2024-05-31"  # 366 days (2024 is a leap year)


def main() -> None:
    days = 366
    minimum = sum(math.ceil(days / spec.max_span) for spec in wxframe.ENDPOINTS.values())
    with serve(seed=0, today="2024-06-01") as sim:
        client = sim.client(max_workers=4)
        start = time.perf_counter()
        rows = sum(
            len(wxframe.load(client, name, BEGIN, END, progress=False))
            for name in wxframe.ENDPOINTS
        )
        seconds = time.perf_counter() - start
        calls = sim.stats.datacube_calls
    print(f"{days} days x 6 endpoints: {calls} calls (minimum {minimum}, "
          f"ratio {calls / minimum:.2f}), {rows} rows, {seconds:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
