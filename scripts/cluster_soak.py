"""The cluster's soak (run by scripts/cluster-soak.sh on a cluster of scripts/cluster.sh).

Twelve writers create projects through both nodes while node A is killed with SIGKILL
and started again; then every acknowledged write must be in the primary, no answer may
be a 5xx, and the activity log's chain must verify. Also: a file uploaded on A downloads
byte for byte on B; failed logins alternating between the nodes meet the account's
limit at the same count as on one node; a project created on A reads at once on B while
the nodes read from the replica; erasures queued on node A while the worker is killed at
random remove exactly the erased users' files from the bucket, every job succeeding;
readers on both nodes keep getting 200s while the replica is stopped and started again. Prints its figures; exits 1 on any failure.
Standard library only.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

WRITERS = 12
PASSWORD = "Passw0rd!"


def call(base, method, path, body=None, token=None, raw=None, headers=None, timeout=10):
    """(status, bytes); status 0 when the node did not answer."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, b""


def register(base, email):
    status, body = call(base, "POST", "/api/auth/register",
                        {"email": email, "password": PASSWORD, "name": "Soak Student"})
    if status != 201:
        sys.exit(f"register {email}: {status} {body[:200]!r}")
    return json.loads(body)["access_token"]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = self.unanswered = 0
        self.acknowledged = []
        self.server_errors = []

    def record(self, status, body):
        with self.lock:
            self.requests += 1
            if status == 201:
                self.acknowledged.append(json.loads(body)["id"])
            elif status == 0:
                self.unanswered += 1
            elif status >= 500:
                self.server_errors.append((status, body[:200]))


def writer(n, nodes, token, tally, stop):
    i = 0
    while not stop.is_set():
        base = nodes[(n + i) % len(nodes)]
        status, body = call(base, "POST", "/api/projects", {"title": f"Soak writer {n} project {i}"}, token)
        tally.record(status, body)
        i += 1


def wait_healthy(base, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if call(base, "GET", "/health", timeout=2)[0] == 200:
            return True
        time.sleep(0.05)
    return False


def psql(database_url, sql):
    return subprocess.run(["psql", database_url, "-tAc", sql], check=True,
                          capture_output=True, text=True).stdout.split()


def soak(env, seconds, problems):
    nodes, pids = env["NODE_URL"], env["NODE_PID"]
    tokens = [register(nodes[n % 2], f"soak{n}-{uuid.uuid4().hex[:8]}@soak.test") for n in range(WRITERS)]
    tally, stop = Tally(), threading.Event()
    threads = [threading.Thread(target=writer, args=(n, nodes, tokens[n], tally, stop), daemon=True)
               for n in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        time.sleep(seconds / 3)
        os.kill(int(pids[0]), signal.SIGKILL)
        killed = time.monotonic()
        time.sleep(1)
        restart = subprocess.run(["bash", "scripts/cluster.sh", "node", "a"], capture_output=True, text=True)
        recovered = restart.returncode == 0 and wait_healthy(nodes[0], 60)
        recovery = time.monotonic() - killed
        if not recovered:
            problems.append(f"node A did not come back after its restart: {restart.stderr}")
        time.sleep(seconds * 2 / 3)
    finally:
        stop.set()
        for t in threads:
            t.join()
    ids = tally.acknowledged
    stored = set()
    for start in range(0, len(ids), 500):
        chunk = ",".join(f"'{i}'" for i in ids[start:start + 500])
        stored.update(psql(env["DATABASE_URL"][0], f"SELECT id FROM projects WHERE id IN ({chunk})"))
    lost = [i for i in ids if i not in stored]
    if lost:
        problems.append(f"{len(lost)} acknowledged writes lost, e.g. {lost[:3]}")
    if tally.server_errors:
        problems.append(f"{len(tally.server_errors)} answers were 5xx, e.g. {tally.server_errors[:3]}")
    if not ids:
        problems.append("no write was acknowledged")
    print(f"soak: {seconds} s, {WRITERS} writers over 2 nodes, node A killed (SIGKILL) at {seconds / 3:.0f} s: "
          f"{tally.requests} requests, {len(ids)} acknowledged, {len(lost)} lost, "
          f"{len(tally.server_errors)} 5xx, {tally.unanswered} unanswered (node A down); "
          f"node A healthy again {recovery:.1f} s after the kill (restarted 1 s after it)")


def upload_png(base, token, project, size):
    """Uploads a PNG of about `size` random bytes to `project`: (status, body, the bytes)."""
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000a49444154789c6300010000050001"
                        "0d0a2db40000000049454e44ae426082") + os.urandom(size)
    boundary = "soak-boundary"
    form = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"kind\"\r\n\r\nproject\r\n"
            f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            "content-type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    status, body = call(base, "POST", f"/api/projects/{project}/files", token=token, raw=form,
                        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return status, body, png


def shared_files(env, problems):
    a, b = env["NODE_URL"]
    token = register(a, f"files-{uuid.uuid4().hex[:8]}@soak.test")
    status, body = call(a, "POST", "/api/projects", {"title": "Files across nodes"}, token)
    project = json.loads(body)["id"]
    status, body, png = upload_png(a, token, project, 300_000)
    if status != 201:
        problems.append(f"upload on node A: {status} {body[:200]!r}")
        return
    file_id = json.loads(body)["id"]
    status, got = call(b, "GET", f"/api/files/{file_id}", token=token)
    same = status == 200 and got == png
    if not same:
        problems.append(f"download on node B: {status}, {len(got)} bytes, same: {got == png}")
    print(f"files: {len(png)} bytes uploaded on node A, downloaded on node B: {'identical' if same else 'DIFFERENT'}")


def brakes(env, problems):
    a, b = env["NODE_URL"]
    email = f"brakes-{uuid.uuid4().hex[:8]}@soak.test"
    register(a, email)
    statuses = [call((a, b)[i % 2], "POST", "/api/auth/login", {"email": email, "password": "wrong-Passw0rd"})[0]
                for i in range(12)]
    first_429 = statuses.index(429) + 1 if 429 in statuses else None
    if first_429 != 11:
        problems.append(f"failed logins alternating between nodes: first 429 at {first_429}, expected 11: {statuses}")
    print(f"brakes: failed logins alternating between the nodes, first 429 at attempt {first_429} (limit 10 per account)")


def replica_state(base):
    status, body = call(base, "GET", "/health", timeout=5)
    replicas = json.loads(body).get("replicas", []) if status in (200, 503) else []
    return replicas[0] if replicas else {}


def read_your_writes(env, problems):
    a, b = env["NODE_URL"]
    token = register(a, f"ryw-{uuid.uuid4().hex[:8]}@soak.test")
    before = replica_state(b).get("reads", 0)
    missed = 0
    for i in range(50):
        status, body = call(a, "POST", "/api/projects", {"title": f"Read at once {i}"}, token)
        status, _ = call(b, "GET", f"/api/projects/{json.loads(body)['id']}", token=token)
        missed += status != 200
    # The same reads later, once the replica has replayed them, are the replica's.
    time.sleep(0.5)
    for _ in range(20):
        call(b, "GET", "/api/projects", token=token)
    on_replica = replica_state(b).get("reads", 0) - before
    if missed:
        problems.append(f"read-your-writes: {missed} of 50 projects created on A were not found on B at once")
    if on_replica <= 0:
        problems.append(f"read-your-writes: no read went to the replica: {replica_state(b)}")
    print(f"replica: 50 projects created on A read at once on B ({missed} missed); "
          f"{on_replica} of B's reads went to the replica")


def replica_restart(env, problems):
    nodes = env["NODE_URL"]
    token = register(nodes[0], f"reader-{uuid.uuid4().hex[:8]}@soak.test")
    call(nodes[0], "POST", "/api/projects", {"title": "Read through the restart"}, token)
    tally, stop = Tally(), threading.Event()

    def reader(n):
        while not stop.is_set():
            status, body = call(nodes[n % 2], "GET", "/api/projects", token=token)
            tally.record(status, body)

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()

    def until(state):
        began = time.monotonic()
        while any(replica_state(base).get("state") != state for base in nodes):
            if time.monotonic() - began > 60:
                problems.append(f"the replica never became {state}: {[replica_state(n) for n in nodes]}")
                break
            time.sleep(0.05)
        return time.monotonic() - began

    try:
        time.sleep(1)
        stopped = time.monotonic()
        subprocess.run(["bash", "scripts/cluster.sh", "replica", "stop"], check=True)
        fell_back = until("unreachable")
        time.sleep(2)
        subprocess.run(["bash", "scripts/cluster.sh", "replica", "start"], check=True, capture_output=True)
        back = until("streaming")
        down_for = time.monotonic() - stopped
        time.sleep(1)
    finally:
        stop.set()
        for t in threads:
            t.join()
    if tally.server_errors or tally.unanswered:
        problems.append(f"replica restart: {len(tally.server_errors)} 5xx, {tally.unanswered} unanswered, "
                        f"e.g. {tally.server_errors[:3]}")
    print(f"replica stopped and restarted under 4 readers over 2 nodes: {tally.requests} requests, "
          f"{len(tally.server_errors)} 5xx; both nodes saw it unreachable {fell_back:.1f} s after the stop "
          f"and streaming {back:.1f} s after the start ({down_for:.1f} s in all)")


def bucket_objects(env):
    """The number of objects in the cluster's bucket, as the store counts them."""
    garage = os.path.expanduser("~/.cache/launchpad/garage-2.5.0/bin/garage")
    out = subprocess.run([garage, "-c", env["STORE_CONFIG"][0], "bucket", "info", "launchpad"],
                         check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("Objects:")))


def settle(read, want, seconds=30):
    """read() until it returns want (the store's counters follow writes closely, not at once)."""
    deadline = time.monotonic() + seconds
    value = read()
    while value != want and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def jobs_once(env, problems, students=8, files_each=3):
    """Erasures queued on node A while the worker is killed at random: every erased file
    leaves the bucket, nothing else does, and every job succeeds."""
    a, b = env["NODE_URL"]
    _, body = call(a, "POST", "/api/auth/login", {"email": "admin@test.com", "password": "Admin@1234"})
    admin = json.loads(body)["access_token"]
    start = bucket_objects(env)
    ids = []
    for n in range(students):
        token = register(a, f"erased{n}-{uuid.uuid4().hex[:8]}@soak.test")
        ids.append(json.loads(call(a, "GET", "/api/users/me", token=token)[1])["id"])
        _, body = call(b, "POST", "/api/projects", {"title": "To be erased"}, token)
        project = json.loads(body)["id"]
        for _ in range(files_each):
            status, body, _ = upload_png(b, token, project, 1000)
            if status != 201:
                problems.append(f"jobs: upload on node B: {status} {body[:200]!r}")
                return
    stored = students * files_each
    before = settle(lambda: bucket_objects(env), start + stored)
    dice, kills = random.Random(15), 0
    for user in ids:
        status, body = call(a, "POST", f"/api/admin/users/{user}/erase", token=admin)
        if status != 200:
            problems.append(f"jobs: erase on node A: {status} {body[:200]!r}")
        if dice.random() < 0.5:
            time.sleep(dice.uniform(0, 0.3))
            os.kill(int(env["WORKER_PID"][0]), signal.SIGKILL)
            kills += 1
            out = subprocess.run(["bash", "scripts/cluster.sh", "worker"], check=True,
                                 capture_output=True, text=True).stdout
            env["WORKER_PID"] = [line.split("=", 1)[1] for line in out.splitlines()
                                 if line.startswith("WORKER_PID=")]
    ours = "kind IN ('files.remove', 'activity_log.erase')"
    settle(lambda: psql(env["DATABASE_URL"][0], f"SELECT count(*) FROM jobs WHERE {ours} "
                        "AND status <> 'succeeded'"), ["0"], seconds=60)
    rows = psql(env["DATABASE_URL"][0], f"SELECT kind || ':' || status || ':' || attempts FROM jobs WHERE {ours}")
    failed = [r for r in rows if ":succeeded:" not in r]
    after = settle(lambda: bucket_objects(env), before - stored)
    if failed or not rows:
        problems.append(f"jobs: not all succeeded: {failed or 'no job queued'}")
    if after != before - stored:
        problems.append(f"jobs: the bucket went from {before} to {after} objects, expected {before - stored}")
    again = sum(1 for r in rows if not r.endswith(":1"))
    print(f"jobs: {students} erasures queued on node A ({stored} files), the worker SIGKILLed {kills} times: "
          f"{len(rows)} jobs, {len(failed)} not succeeded, {again} run more than once (taken back from a "
          f"killed worker); bucket {before} -> {after} objects")


def main():
    seconds = int(sys.argv[1])
    env = {}
    for line in sys.stdin:
        key, _, value = line.strip().partition("=")
        env.setdefault(key, []).append(value)
    problems = []
    shared_files(env, problems)
    brakes(env, problems)
    read_your_writes(env, problems)
    jobs_once(env, problems)
    replica_restart(env, problems)
    soak(env, seconds, problems)
    verify = subprocess.run([env["LAUNCHPAD"][0], "--database-url", env["DATABASE_URL"][0], "verify"],
                            capture_output=True, text=True)
    print(f"verify: exit {verify.returncode}: {verify.stdout.strip().splitlines()[-1:]}")
    if verify.returncode != 0:
        problems.append(f"verify failed: {verify.stdout}{verify.stderr}")
    for p in problems:
        print("FAIL:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
