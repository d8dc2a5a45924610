"""The regex fast path against the LALR parser: the same tree, or None.

parse_fast may give up (None) on anything, but where it answers its tree must
be the LALR parser's, type for type and offset for offset, and it must never
answer where the LALR parser finds a syntax error or a bad string escape.
Checked on every .ha file of the repository, on snippets for each construct and
lexical corner, and on random clusters and random mutations of them.
"""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from halang.syntax import fastpath
from halang.syntax.fastpath import BODIES, KEYWORDS, parse_fast
from halang.syntax.parser import _SKIP, SyntaxFailure, TreeBuilder, reference_parser, table_parser

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("examples/**/*.ha"), *ROOT.glob("tests/**/*.ha")])


def shape(node):
    """A tree as nested plain data naming each node's type: equal shapes are identical trees."""
    if isinstance(node, tuple):
        return (type(node).__name__, *map(shape, node))
    return node


def lalr_parse(text: str):
    """The LALR parser's tree, or None on a syntax error or an unknown string escape."""
    builder = TreeBuilder()
    try:
        tree = table_parser().parse(text, builder)
    except SyntaxFailure:
        return None
    return None if builder.string_errors else tree


def assert_agrees(text: str):
    """The property of the fast path: None, or the LALR parser's tree; None where that fails."""
    fast, lalr = parse_fast(text), lalr_parse(text)
    if lalr is None:
        assert fast is None, "the fast path accepted text the LALR parser rejects"
    elif fast is not None:
        assert shape(fast) == shape(lalr)


def assert_fast(text: str):
    """Valid text the fast path must read itself, building the LALR parser's tree."""
    lalr = lalr_parse(text)
    assert lalr is not None, "not valid text"
    fast = parse_fast(text)
    assert fast is not None, "the fast path gave up"
    assert shape(fast) == shape(lalr)


# ---------------------------------------------------------------- files

@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_repository_files(path: Path):
    text = path.read_text(encoding="utf-8")
    if lalr_parse(text) is None:
        assert parse_fast(text) is None
    else:
        assert_fast(text)


# ------------------------------------------------------------- snippets

SPEC_EXAMPLE = """
# Two nodes, each the other's backup.
cluster payments {
  heartbeat {
    interval   = 500ms          # one beat on every path this often
    miss_limit = 4              # beats missed before a path counts as down
    key_file   = "/etc/halang/payments.key"
  }

  node alpha { }
  node bravo { capacity { cpu = 1.5  memory = 64G } domains = [rack1, feed_a] }

  network net_ether_01 {
    type = ether
    ipat = replace
    adapter alpha en0 boot    10.10.1.11/24 switch sw1
    adapter alpha en1 standby 10.10.2.11/24
    adapter bravo en0 boot    10.10.1.12/24 switch sw1
    service app_a_svc 10.10.1.100
    service app_b_svc 10.10.1.101/24
  }

  link hb_serial {
    type  = rs232
    alpha = "/dev/ttyS1"
    bravo = "/dev/ttyS1"
  }

  resource_group app_a {
    nodes       = [alpha, bravo]   # priority order; the first is the home node
    service_ips = [app_a_svc]
    volume_groups = []
    filesystem /srv/app_a { device = "/dev/vg_a/lv" fstype = "xfs" }
    filesystem "/srv/with space" { }
    application app_a {
      start = "/opt/app_a/bin/start"
      stop  = "/opt/app_a/bin/stop"
      monitor { command = "/opt/app_a/bin/check"  interval = 5s  restarts = 2 }
    }
    requires { cpu = 2  memory = 4G }
  }

  event node_down { notify = "/usr/local/sbin/page" }
  accept HA303 "the serial link is enough here"
}
"""


def cluster(body: str) -> str:
    return f"cluster c {{\n{body}\n}}\n"


VALID = {
    "spec example": SPEC_EXAMPLE,
    "empty cluster": "cluster c { }",
    "no blanks at all": 'cluster c{node n{capacity{cpu=1 memory=2G}}resource_group g{nodes=[n,m,]x="a"y=1}}',
    "comments everywhere": "# head\ncluster # a\n c # b\n { # c\n node # d\n n # e\n { # f\n k # g\n = # h\n v # i\n"
                           " l # j\n = # k\n [ # l\n a # m\n , # n\n b # o\n ] # p\n } # q\n } # tail\n# end",
    "comment chars inside strings": cluster('node n { a = "# not a comment" b = "}" c = "[x, y]" }'),
    "escapes": cluster(r'node n { a = "q\"uote" b = "back\\slash" c = "tab\tnl\n" d = "" }'),
    "lists": cluster("node n { a = [] b = [ ] c = [x,] d = [x, y, ] e = [\"s\", 1, n, fd00::1/64]\n"
                     " f = [\n  x,  # first\n  y   # second\n  , # third\n] }"),
    "literals": cluster("node n { a = 0 b = 500ms c = 4G d = 1.5 e = 10.1.1.11/24 f = 10.1.1.300 g = 5min }"),
    "ipv6 literals": cluster("node n { a = fd00::1/64 b = ::1 c = fe80::/10 d = cafe:1 e = ::ffff:10.0.0.1/96 }"),
    "literal before name": cluster("node n { a = cafe b = deadbeef:1 c = 1:2x = 3 }"),
    "interface names": cluster("network net {\n adapter a en0:1 boot 10.0.0.1/24\n"
                               " adapter a eth0.100 standby fd00::1/64 switch sw-1\n"
                               " adapter a 0eth boot 1.1.1.1/24\n adapter a a-b_c boot 2.2.2.2/24 }"),
    "service lines": cluster("network net { service s1 10.0.0.100 service s2 fd00::100/64 type = ether }"),
    "paths": cluster("resource_group g { filesystem / { } filesystem /srv/a-b.c_d{ } filesystem /x#c\n{ }"
                     ' filesystem "/q" { } }'),
    "keywords as names": cluster("node network { }\nnode switch { }\nnetwork node {\n adapter adapter switch switch"
                                 " 1.1.1.1/24 switch switch\n service service 10.0.0.1 }\n"
                                 "resource_group event { nodes = [node, cluster] x = service y = [switch] }\n"
                                 "link link { type = adapter }\nevent accept { }\naccept accept \"why\""),
    "keyword prefixes are names": cluster("node n { nodes = 1 capacity_x = 2 adapter-1 = 3 }\n"
                                          "network net { adapter a en0 boot 1.1.1.1/24 switchy = 1 service_ips = [] }"),
    "all unnamed blocks": cluster("heartbeat { }\nnode n { capacity { } }\nresource_group g {"
                                  " application a { monitor { } } requires { } }"),
    "crlf and form feeds": "cluster c {\r\n\tnode n {\f}\r\n  # note\r\n}\r\n",
    "trailing comments": "cluster c { }\n# one\n# two } {\n",
    "accept with a scenario": cluster('accept HA306 "why" when ["node:a", "node:b",]\naccept HA301 "x" when []\n'
                                      'accept HA302 "y" # c\n when # d\n [ "link:l" # e\n ]\nnode when { when_x = 1 }'),
}

GIVING_UP = {
    "nested list": cluster("node n { a = [[x], y] }"),
    "unknown escape": cluster(r'node n { a = "bad\q" }'),
    "unknown escape in a path": cluster(r'resource_group g { filesystem "/bad\q" { } }'),
    "keyword as the first attribute": cluster("heartbeat { node = 1 }"),
    "keyword after an attribute": cluster("link l { type = disk  node = 1 }"),
    "when as a key": cluster("node n { when = 1 }"),
    "nested list in a scenario": cluster('accept HA306 "why" when [["node:a"]]'),
}

INVALID = {
    "attribute in the cluster": cluster("x = 1"),
    "keyword of the body as a key": cluster("node n { capacity = 1 }"),
    "keyword run into a block name": cluster("noden { }"),
    "keyword run into a line": cluster("network n { adapterx en0 boot 1.1.1.1/24 }"),
    "switch without a name": cluster("network n { adapter a en0 boot 1.1.1.1/24 switch }"),
    "switch as a key after an adapter": cluster("network n { adapter a en0 boot 1.1.1.1/24 switch = 1 }"),
    "unclosed block": cluster("node n {"),
    "extra brace": cluster("node n { } }"),
    "text after the cluster": "cluster c { } x",
    "two clusters": "cluster a { } cluster b { }",
    "list without commas": cluster("node n { a = [x y] }"),
    "list with only a comma": cluster("node n { a = [,] }"),
    "unclosed list": cluster("node n { a = [x, }"),
    "value cut by a literal": cluster("node n { a = 1y = 2 }"),
    "string where a name goes": cluster('node "n" { }'),
    "name after a value": cluster("node n { a = b c }"),
    "literal as a key": cluster("node n { 1 = 2 }"),
    "name where an address goes": cluster("network n { service s cafe }"),
    "path outside a filesystem": cluster("node /n { }"),
    "unnamed block with a name": cluster("heartbeat h { }"),
    "named block without a name": cluster("node { }"),
    "string across a line": cluster('node n { a = "x\ny" }'),
    "vertical tab": cluster("node n {\v}"),
    "empty text": "",
    "when without a list": cluster('accept HA306 "why" when "node:a"'),
    "when without an accept": cluster('node n { } when ["node:n"]'),
    "when run into its list": cluster('accept HA306 "why" whenever ["node:a"]'),
}


@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
def test_valid_snippets_take_the_fast_path(text):
    assert_fast(text)


@pytest.mark.parametrize("text", GIVING_UP.values(), ids=GIVING_UP.keys())
def test_unusual_snippets_are_left_to_lalr(text):
    table_parser().parse(text, TreeBuilder())  # no syntax error, if maybe a bad escape
    assert parse_fast(text) is None


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_snippets(text):
    with pytest.raises(SyntaxFailure):
        table_parser().parse(text, TreeBuilder())
    assert parse_fast(text) is None


def test_no_token_is_read_inside_a_comment():
    # The LALR driver's lexer backtracks into the comment and reads "o" as the value
    # (lark's own parser rejects this text); the fast path gives up.
    assert parse_fast(cluster("node n { x = # foo\n }")) is None


# ----------------------------------------------------- the lexical rules

def grammar_terminals() -> dict[str, str]:
    return {terminal.name: terminal.pattern.to_regexp() for terminal in reference_parser().terminals}


def test_keywords_are_the_grammars():
    words = {terminal.pattern.value for terminal in reference_parser().terminals
             if terminal.pattern.type == "str" and terminal.pattern.value.isidentifier()}
    assert words == KEYWORDS
    assert set(BODIES) <= KEYWORDS


@settings(max_examples=300, deadline=None)
@given(st.text(' \t\n\r\f\v#"\\/:.,-_{}[]=aAfFgz09é\u00a0', max_size=24))
def test_terminals_read_what_the_grammars_read(text):
    def end(pattern):
        found = re.match(pattern, text)
        return None if found is None else found.end()

    grammar = grammar_terminals()
    for name in ("NAME", "IFNAME", "STRING", "LITERAL", "PATH"):
        assert end(getattr(fastpath, name)) == end(grammar[name]), name
    assert end(fastpath.SKIP) == end(_SKIP)


# ------------------------------------------------- random clusters and mutations

NAMES = ["a", "n1", "alpha", "b-2", "_x", "cafe", "fd", "e1", "node", "switch", "network", "accept", "cluster"]
LITERALS = ["0", "42", "500ms", "4G", "1.5", "10.1.1.11/24", "fd00::1/64", "::1", "cafe:1", "1:2", "10.0.0.1"]
STRINGS = ['"x"', '""', '"/etc/a b"', '"q\\"uote"', '"t\\tab\\n"', '"# hash"', '"\\\\"']
BLANKS = [" ", "  ", "\n", "\t", " # note\n", "\n# } { = [ ,\n  ", "\r\n", "\f"]
# What mutations insert: punctuation, keywords, fragments of tokens, blanks that are not.
FRAGMENTS = ["{", "}", "[", "]", ",", "=", "#", '"', "\\", "\n", " ", ":", "/", ".", "-", "1", "a", "\v",
             "switch", "adapter", "service", "node", "capacity", "x = 1", "[a]", "\\q", "# c\n"]


@st.composite
def clusters(draw, strict: bool = True):
    """The text of a random cluster. `strict`: one the fast path must read (no keyword
    as an attribute key, no nested list, no unknown escape); otherwise anything the
    grammar allows, and some unknown escapes."""
    out = []

    def emit(*tokens):
        for token in tokens:
            out.append(token)
            out.append(draw(st.sampled_from(BLANKS)))

    names = st.sampled_from(NAMES)
    keys = st.sampled_from([name for name in NAMES if name not in KEYWORDS] if strict else NAMES)
    strings = st.sampled_from(STRINGS if strict else [*STRINGS, '"bad\\q"'])
    scalars = st.one_of(names, st.sampled_from(LITERALS), strings)

    def value(depth: int):
        if draw(st.booleans()):
            return emit(draw(scalars))
        emit("[")
        count = draw(st.integers(0, 3))
        for index in range(count):
            if not strict and depth < 2 and draw(st.integers(0, 4)) == 0:
                value(depth + 1)
            else:
                emit(draw(scalars))
            if index < count - 1 or draw(st.booleans()):
                emit(",")
        emit("]")

    def body(kind: str, depth: int):
        held = [construct for construct in BODIES[kind] if depth < 3 or construct not in BODIES]
        choices = held + ([] if kind == "cluster" else ["attribute"])
        for _ in range(draw(st.integers(0, 3 if depth else 4))):
            if not choices:
                break
            construct = draw(st.sampled_from(choices))
            if construct == "attribute":
                emit(draw(keys), "=")
                value(0)
            elif construct == "adapter":
                emit("adapter", draw(names), draw(st.sampled_from(["en0", "en0:1", "eth0.100", "0", "a-b_c"])),
                     draw(st.sampled_from(["boot", "standby", "switch"])), draw(st.sampled_from(LITERALS)))
                if draw(st.booleans()):
                    emit("switch", draw(names))
            elif construct == "service":
                emit("service", draw(names), draw(st.sampled_from(LITERALS)))
            elif construct == "accept":
                emit("accept", draw(st.sampled_from(["HA303", "HA601"])), draw(strings))
                if draw(st.booleans()):
                    emit("when", "[")
                    for _ in range(draw(st.integers(0, 2))):
                        emit(draw(strings), ",")
                    emit("]")
            else:
                emit(construct)
                if construct == "filesystem":
                    emit(draw(st.sampled_from(["/srv/a", "/", '"/srv/b c"'])))
                elif construct not in ("heartbeat", "capacity", "monitor", "requires"):
                    emit(draw(names))
                emit("{")
                body(construct, depth + 1)
                emit("}")

    out.append(draw(st.sampled_from(["", "# head\n", "\n "])))
    emit("cluster", draw(names), "{")
    body("cluster", 0)
    emit("}")
    return "".join(out)


@st.composite
def mutations(draw):
    """A random cluster with one to three edits: characters deleted, fragments inserted or put in place."""
    text = draw(clusters(strict=False))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 4))
        insert = draw(st.sampled_from(["", *FRAGMENTS]))
        text = text[:at] + insert + text[at + cut:]
    return text


@settings(max_examples=300, deadline=None)
@given(clusters())
def test_random_clusters_take_the_fast_path(text):
    assert_fast(text)


@settings(max_examples=300, deadline=None)
@given(clusters(strict=False))
def test_random_clusters_with_unusual_constructs(text):
    assert_agrees(text)


@settings(max_examples=300, deadline=None)
@given(mutations())
def test_random_mutations(text):
    assert_agrees(text)
