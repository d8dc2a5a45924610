"""The entry point of a halang bundle: `python3 BUNDLE.pyz info|verify|run ...`.

Copied into the bundle as `__main__.py` by `halang compile`; the commands are
in `runtime/__main__.py`. If the engine under `runtime/` does not even import
(a damaged or tampered member, a Python too old), this says so in a sentence
and checks the bundle with `runtime/node/bundle.py` alone, which needs nothing but
the standard library, instead of printing a traceback.
"""

import os
import sys


def _engine_does_not_load(error):
    print("halang bundle: the runtime in this bundle does not load (%s: %s)" % (type(error).__name__, error),
          file=sys.stderr)
    archive = os.path.dirname(os.path.abspath(__file__))
    try:
        import types
        import zipfile

        with zipfile.ZipFile(archive) as bundle:
            source = bundle.read("runtime/node/bundle.py")
        checker = types.ModuleType("halang_bundle_check")
        checker.__file__ = os.path.join(archive, "runtime", "bundle.py")
        sys.modules[checker.__name__] = checker
        exec(compile(source, checker.__file__, "exec"), checker.__dict__)
        checker.open_bundle(archive)
    except Exception as exc:  # noqa: BLE001 - whatever it is, say it in one line
        print("halang bundle: %s" % exc, file=sys.stderr)
        return 1
    print("halang bundle: %s: every member matches its manifest, so the bundle is intact but its runtime "
          "cannot run on this Python (%s)" % (archive, sys.version.split()[0]), file=sys.stderr)
    return 1


def _main():
    if sys.version_info < (3, 9):
        print("halang bundle: needs Python 3.9 or newer, this is %s" % sys.version.split()[0], file=sys.stderr)
        return 1
    try:
        from runtime.__main__ import main
    except Exception as exc:  # noqa: BLE001 - a bundle answers in sentences, never with a traceback
        return _engine_does_not_load(exc)
    return main()


if __name__ == "__main__":
    sys.exit(_main())
