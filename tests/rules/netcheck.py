#!/usr/bin/python3
# Traffic for the packet-rules namespace tests, standard library only.
#   netcheck.py tcp-serve PORT...           accept and close, forever
#   netcheck.py tcp-try HOST PORT [SRC]     exit 0 when a connection opens within 1 s
#   netcheck.py udp-count PORT SECONDS      print the datagrams received
#   netcheck.py udp-send HOST PORT COUNT [SRC] [SRCPORT]
#   netcheck.py hold HOST PORT -- CMD...    keep a TCP connection open while CMD runs
import socket, subprocess, sys, time

def tcp_serve(ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(p)))
        s.listen(64)
        s.setblocking(False)
        socks.append(s)
    import select
    conns = []
    while True:
        r, _, _ = select.select(socks, [], [], 1.0)
        for s in r:
            try:
                c, _ = s.accept()
                conns.append(c)  # held open: the lock-out test keeps one
                conns = conns[-32:]
            except BlockingIOError:
                pass

def tcp_try(host, port, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1.0)
    if src:
        s.bind((src, 0))
    try:
        s.connect((host, int(port)))
        return 0
    except OSError:
        return 1
    finally:
        s.close()

def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET

def udp_count(port, seconds):
    # One dual-stack socket counts IPv4 and IPv6 datagrams.
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(port)))
    s.settimeout(0.2)
    n, end = 0, time.time() + float(seconds)
    while time.time() < end:
        try:
            s.recv(2048)
            n += 1
        except socket.timeout:
            pass
    print(n)
    return 0

def udp_send(host, port, count, src=None, sport=0):
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    if src or sport:
        s.bind((src or ("::" if ":" in host else "0.0.0.0"), int(sport)))
    for i in range(int(count)):
        s.sendto(b"qv-ru %d" % i, (host, int(port)))
        time.sleep(0.002)
    return 0

def hold(host, port, cmd):
    s = socket.create_connection((host, int(port)), timeout=2)
    rc = subprocess.call(cmd)
    s.close()
    return rc

a = sys.argv[1:]
if a[0] == "tcp-serve":
    tcp_serve(a[1:])
elif a[0] == "tcp-try":
    sys.exit(tcp_try(*a[1:]))
elif a[0] == "udp-count":
    sys.exit(udp_count(*a[1:]))
elif a[0] == "udp-send":
    sys.exit(udp_send(*a[1:]))
elif a[0] == "hold":
    sys.exit(hold(a[1], a[2], a[4:]))
else:
    sys.exit(2)
