from halang.checks.registry import Check
from halang.diagnostics import Severity


class MalformedLiteral(Check):
    r"""Malformed literal: an address, prefix, duration, size, number or string escape that is not well formed.

    Numbers, durations, sizes and addresses are read as one word and then taken
    apart, so a typo is reported here with what was expected rather than as a
    bare syntax error. halang does not guess: `5min` might be five minutes or a
    slip for `5m`, and `010` is eight to some tools and ten to others.

    - Integers are `0` or digits without a leading zero; `cpu` also takes a
      decimal such as `1.5`.
    - Durations are an integer with `ms`, `s`, `m` or `h`: `500ms`, `5s`, `10m`.
    - Sizes are a number of bytes, or an integer with `K`, `M`, `G` or `T`
      (powers of 1024): `512M`, `4G`.
    - IPv4 addresses are four numbers 0 to 255 without leading zeros; IPv6
      addresses are written in the usual colon form (`fd00::11`). A prefix is 0 to
      32 for IPv4 and 0 to 128 for IPv6, and every `adapter` address needs one.
    - Strings know the escapes `\"`, `\\`, `\n` and `\t`.

    The value is left out, so the attribute keeps its default (an adapter or a
    service with a bad address is left out), and the rest of the file is still
    checked. A well-formed value of the wrong kind, such as `interval = 5`, is
    HA104.

    Bad:
        cluster payments {
          heartbeat { interval = 2sec }
          node alpha { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.011/24
          }
        }

    Good:
        cluster payments {
          heartbeat { interval = 2s }
          node alpha { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
          }
        }
    """

    code = "HA002"
    name = "syntax.malformed-literal"
    severity = Severity.ERROR
    phase = "parse"
