"""The node's I/O: the daemon and what it drives (transports, the address actuator, resource drivers, the
background worker, the control socket, the ping prober), the bundle it runs from, and the loop body it shares
with the whole-cluster simulator (`loop`). The decisions are all in `runtime.core`.
"""
