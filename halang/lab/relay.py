"""A pausable relay between two pseudo-terminals: the lab's serial cable (rs232, tmscsi, tmssa links).

Run as a script with the standard library only (`python3 -I relay.py A B MODE_FILE`):
it opens two pty pairs in raw mode without echo, points the symlinks A and B
at their terminal ends (what the two nodes open, as they would /dev/ttyS1),
writes `forward` into MODE_FILE, then detaches (forks, the child in a session
of its own) and prints the child's PID on one line before the parent exits.
The child copies every byte read from one pty's master to the other's.

Signals: SIGUSR1 cuts the cable (bytes are read and dropped, as on a pulled
cable: nothing piles up to arrive late), SIGUSR2 joins it again, SIGTERM
ends the relay. After each change the relay rewrites MODE_FILE (`cut` or
`forward`), which is how the lab knows the change has taken effect.

The terminals never go away while the relay runs: a node keeps its file
descriptor across a cut, as with a real cable. The relay keeps both terminal
ends open itself, so a node may close and reopen its end; a write that would
block (nobody reading) is dropped, as a serial line drops what no one reads.
"""

import os
import select
import signal
import sys
import time
import tty


def _write_mode(path, mode):
    temporary = f"{path}.{os.getpid()}"
    with open(temporary, "w") as out:
        out.write(mode + "\n")
    os.replace(temporary, path)


def _point(link, target):
    temporary = f"{link}.{os.getpid()}"
    os.symlink(target, temporary)
    os.replace(temporary, link)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: relay.py LINK_A LINK_B MODE_FILE\n")
        return 2
    link_a, link_b, mode_file = argv[1:]
    pairs = [os.openpty(), os.openpty()]
    for master, terminal in pairs:
        tty.setraw(terminal)  # raw, and no echo
        os.set_blocking(master, False)
    state = {"forward": True}

    def cut(number, frame):
        state["forward"] = False
        _write_mode(mode_file, "cut")

    def join(number, frame):
        state["forward"] = True
        _write_mode(mode_file, "forward")

    def stop(number, frame):
        raise SystemExit(0)

    # Installed before the fork, so a signal sent the moment the PID is known is never fatal.
    signal.signal(signal.SIGUSR1, cut)
    signal.signal(signal.SIGUSR2, join)
    signal.signal(signal.SIGTERM, stop)
    _point(link_a, os.ttyname(pairs[0][1]))
    _point(link_b, os.ttyname(pairs[1][1]))
    _write_mode(mode_file, "forward")
    child = os.fork()
    if child:
        sys.stdout.write(f"{child}\n")
        sys.stdout.flush()
        os._exit(0)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    other = {pairs[0][0]: pairs[1][0], pairs[1][0]: pairs[0][0]}
    try:
        while True:
            readable, _, _ = select.select(list(other), [], [])
            for master in readable:
                try:
                    data = os.read(master, 4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:  # EIO: no terminal end open; the relay holds both, so this is transient
                    time.sleep(0.05)
                    continue
                if data and state["forward"]:
                    try:
                        os.write(other[master], data)
                    except (BlockingIOError, InterruptedError):
                        pass  # the far end reads nothing: the bytes are lost, as on a line
    except SystemExit:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
