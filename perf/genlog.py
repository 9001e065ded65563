import random, sys
r = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
n = int(sys.argv[1])
lv = ["INFO","INFO","INFO","DEBUG","WARN","ERROR"]
mods = ["http.server","db.pool","auth","cache","scheduler","worker.io","api.v2.orders","api.v2.users"]
msgs = ["request completed path=/api/v2/orders/{} status=200 bytes={} dur_ms={}",
        "cache miss key=user:{} ttl={} shard={}",
        "connection acquired pool=main active={} idle={} wait_us={}",
        "job finished id={} attempts={} elapsed_ms={}",
        "user login ok uid={} session={:x} ip=10.{}.{}.{}",
        "slow query table=orders rows={} ms={} plan=idx_{}"]
out = sys.stdout
t = 1733400000.0
w = 0
buf = []
while w < n:
    t += r.expovariate(50)
    m = r.choice(msgs)
    k = m.count("{")
    args = [r.choice([r.randint(0,999), r.randint(0,99), 200, 1, 0]) for _ in range(k)]
    if "ip=" in m: args = [r.randint(0,99999), r.getrandbits(48), r.randint(0,255), r.randint(0,255), r.randint(0,255)]
    line = "2024-12-05T%s.%06dZ %-5s [%s] pid=%d tid=%d %s\n" % (
        __import__("time").strftime("%H:%M:%S", __import__("time").gmtime(t)), int((t%1)*1e6),
        r.choice(lv), r.choice(mods), 4242, r.randint(4242, 4260), m.format(*args))
    buf.append(line); w += len(line)
    if len(buf) > 10000:
        out.write("".join(buf)); buf = []
out.write("".join(buf))
