"""The command line: ``python -m anncompiler passes | backends | dump SCRIPT --out DIR``.

``dump`` runs a user's script with every ``compile()`` (``Network.compile`` and the
legacy ``ann.compile``) redirected to write its IR dumps into DIR, and stops the
script right after the first compile: nothing is simulated.  It stops by raising
a private exception derived from BaseException (as SystemExit is), caught here;
making ``simulate`` a no-op instead would let the script go on to read monitors
and plot results of a simulation that never ran.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import runpy
import sys

from anncompiler.errors import AnnCompilerError


class _CompiledOnce(BaseException):
    """Raised from the redirected compile to end the user's script (not an Exception:
    a script's ``except Exception`` does not swallow it)."""


def _doc(cls) -> str:
    doc = (cls.__doc__ or "").strip()
    if not doc or doc.startswith(cls.__name__ + "("):  # the signature dataclasses writes
        return ""
    return doc.splitlines()[0]


def _shown(value) -> str:
    """A default as a pipeline writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return {None: "none", "": '""'}.get(value, str(value)) if not isinstance(value, float) else repr(value)


def list_passes(out=sys.stdout) -> None:
    from anncompiler.passes import registered_passes
    from anncompiler.passes.manager import option_types, type_name
    for name, cls in sorted(registered_passes().items()):
        print(f"{name}  [{cls.stage}]  {_doc(cls)}".rstrip(), file=out)
        types = option_types(cls)
        for f in dataclasses.fields(cls):
            print(f"    {f.name}: {type_name(types[f.name])}, default {_shown(f.default)}", file=out)


def list_backends(out=sys.stdout) -> None:
    from anncompiler.backends import registered_backends
    for name, cls in sorted(registered_backends().items()):
        available = cls.is_available()
        try:
            suffix = cls().pipeline_suffix() if available else "?"
        except Exception as exc:  # a backend that needs options to be created
            suffix = f"? ({type(exc).__name__}: {exc})"
        print(f"{name}  {'available' if available else 'not available'}  "
              f"suffix: {suffix or '(none)'}  {_doc(cls)}".rstrip(), file=out)


def dump(script: str, out_dir: str, backend: str | None = None, pipeline: str | None = None) -> str:
    """Run ``script`` up to its first compile, dumping into ``out_dir``; returns the pipeline that ran."""
    from anncompiler.core.network import Network
    original = Network.compile
    ran = {}

    def compile_and_stop(self, *args, **kwargs):
        kwargs["dump_ir"], kwargs["load"] = out_dir, False  # code generation only: no device needed
        if backend:
            kwargs["backend"] = backend
        if pipeline:
            kwargs["pipeline"] = pipeline
        original(self, *args, **kwargs)
        ran["pipeline"] = self.pipeline
        raise _CompiledOnce

    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [script]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    Network.compile = compile_and_stop
    try:
        runpy.run_path(script, run_name="__main__")
    except _CompiledOnce:
        return ran["pipeline"]
    finally:
        Network.compile = original
        sys.argv, sys.path[:] = saved_argv, saved_path
    raise AnnCompilerError(f"{script} finished without calling compile(): nothing was dumped")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m anncompiler", description="anncompiler's command line")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("passes", help="registered passes, their options and defaults")
    sub.add_parser("backends", help="registered backends, whether available, their pipeline suffix")
    d = sub.add_parser("dump", help="compile a script's network into IR dumps, without simulating")
    d.add_argument("script")
    d.add_argument("--out", required=True, help="directory for the dumps")
    d.add_argument("--backend", help="backend name (default: the script's choice)")
    d.add_argument("--pipeline", help="pipeline text (default: the script's choice)")
    args = ap.parse_args(argv)
    if args.command == "passes":
        list_passes()
    elif args.command == "backends":
        list_backends()
    else:
        try:
            text = dump(args.script, args.out, args.backend, args.pipeline)
        except AnnCompilerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"pipeline: {text}")
        print(f"dumps in {args.out}: {', '.join(sorted(os.listdir(args.out)))}")
    return 0
