"""The original proof-of-work loop: string formatting and a hex check per try.

Runs for SECONDS (default 2) and prints hashes per CPU second on the last line (CPU time, as
`openssl speed` uses, so the figure holds up while other work shares the cores).
"""
import hashlib
import sys
import time

challenge = sys.argv[1] if len(sys.argv) > 1 else "warren-pow:v1:" + "0" * 64
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
prefix = "0" * 6  # 24 bits

nonce = 0
start = time.perf_counter()
start_cpu = time.process_time()
deadline = start + seconds
found = None
while True:
    for _ in range(10000):
        digest = hashlib.sha256((challenge + str(nonce)).encode()).hexdigest()
        if digest.startswith(prefix) and found is None:
            found = nonce
        nonce += 1
    if time.perf_counter() >= deadline:
        break
elapsed = time.perf_counter() - start
cpu = time.process_time() - start_cpu
print(f"python: {nonce} hashes in {elapsed:.2f} s wall, {cpu:.2f} s CPU: "
      f"{nonce / elapsed:.0f}/s wall, {nonce / cpu:.0f}/s CPU; first 24-bit nonce {found}")
print(f"{nonce / cpu:.0f}")
