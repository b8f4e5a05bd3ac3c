"""The 190-cell sma_cross grid of issue 20 in vectorbt, for `keel sweep` to be measured against.

Every pair of windows from {5, 10, ..., 50, 60, 80, ..., 240} over ETH/USDT 1h, the shorter as
the fast SMA: `vbt.MA.run_combs` plus `Portfolio.from_signals`, fees 10 bps and slippage 5 bps
as keel's default venue. Prints cells/s for a cold run (numba compiling) and warm runs, and
writes the trade count of each cell (a trade still open at the end counts) to the CSV given.

    python3 benches/vectorbt/sma_grid.py ../shared/data/binance/ETH_USDT-1h.json trades.csv
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import vectorbt as vbt

WINDOWS = list(range(5, 55, 5)) + list(range(60, 260, 20))


def load(path):
    rows = json.load(open(path))
    index = pd.to_datetime([r[0] for r in rows], unit="ms", utc=True)
    return pd.Series([float(r[4]) for r in rows], index=index, name="close")


def run(close):
    fast, slow = vbt.MA.run_combs(close, window=WINDOWS, r=2, short_names=["fast", "slow"])
    entries = fast.ma_crossed_above(slow)
    exits = fast.ma_crossed_below(slow)
    pf = vbt.Portfolio.from_signals(
        close, entries, exits, fees=0.001, slippage=0.0005, init_cash=10_000, freq="1h"
    )
    return pf.trades.count()


def main():
    close = load(sys.argv[1])
    print(f"bars: {len(close)}")
    for label in ["cold (numba compiles)", "warm", "warm", "warm"]:
        started = time.perf_counter()
        counts = run(close)
        seconds = time.perf_counter() - started
        print(f"vectorbt {label}: {len(counts)} cells in {seconds:.2f} s = {len(counts) / seconds:.1f} cells/s")
    with open(sys.argv[2], "w") as out:
        out.write("sma_fast,sma_slow,trades\n")
        for (fast, slow), n in counts.items():
            out.write(f"{fast},{slow},{n}\n")


if __name__ == "__main__":
    main()
