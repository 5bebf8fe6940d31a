"""Mitogen (Debian's python3-mitogen) doing what bench/suites/remote.js does:
boot a context to its first call answered (local, and over ssh to the bench's
loopback sshd), a call's round trip, one call to each of 16 local contexts.
Prints one JSON object. Run by bench/peers/mitogen.js with /usr/bin/python3."""
import json
import os
import statistics
import sys
import time

import mitogen.master
import mitogen.utils

args = json.loads(sys.argv[1])


def ms_since(t0):
    return (time.perf_counter() - t0) * 1000


def boots(router, connect, count):
    times = []
    for i in range(count + 1):
        t0 = time.perf_counter()
        context = connect(router)
        context.call(os.getcwd)
        if i > 0:
            times.append(ms_since(t0))
        context.shutdown(wait=True)
    return statistics.median(times)


def main(router):
    out = {}
    out['boot_local_ms'] = boots(router, lambda r: r.local(), args['boots'])
    context = router.local()
    for _ in range(args['calls']):
        context.call(os.getcwd)
    times = []
    for _ in range(args['calls']):
        t0 = time.perf_counter()
        context.call(os.getcwd)
        times.append((time.perf_counter() - t0) * 1e6)
    out['rtt_us'] = statistics.median(times)
    context.shutdown(wait=True)
    contexts = [router.local() for _ in range(16)]
    for _ in range(args['fanouts']):
        for receiver in [c.call_async(os.getcwd) for c in contexts]:
            receiver.get()
    times = []
    for _ in range(args['fanouts']):
        t0 = time.perf_counter()
        for receiver in [c.call_async(os.getcwd) for c in contexts]:
            receiver.get()
        times.append(ms_since(t0))
    out['fanout16_ms'] = statistics.median(times)
    for c in contexts:
        c.shutdown(wait=True)
    ssh = args.get('ssh')
    if ssh:
        def connect(r):
            return r.ssh(
                hostname='127.0.0.1', port=ssh['port'], username='root', identity_file=ssh['identityFile'],
                check_host_keys='enforce', ssh_args=ssh['sshArgs'], python_path='/usr/bin/python3',
            )
        out['boot_ssh_ms'] = boots(router, connect, args['sshBoots'])
    print(json.dumps(out))


mitogen.utils.run_with_router(main)
