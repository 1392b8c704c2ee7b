"""``assistant`` command line: a thin shell over the Python API.

Every subcommand parses its arguments, calls :class:`assistant.Assistant` (or the eval
and benchmark runners) and prints. User mistakes end in one line on stderr and exit 2;
problems with some input files end with exit 1 after everything else was done; a store
that cannot be used (damaged, incompatible, disk full) ends in one line and exit 3.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("GRADIO_ANALYTICS_ENABLED", "False"), ("ANONYMIZED_TELEMETRY", "False"),
                      ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)


def _global_flags(parser: argparse.ArgumentParser, default: Any = None) -> argparse.ArgumentParser:
    """Add the flags every subcommand takes, before or after its name. Subcommands add them
    with ``default=SUPPRESS``, so a flag given before the subcommand is not reset."""
    parser.add_argument("--store-dir", metavar="DIR", default=default,
                        help="index folder (default: $ASSISTANT_STORE_DIR or ./store)")
    parser.add_argument("--embedder", choices=["torch", "onnx"], default=default,
                        help="embedding backend")
    return parser


def _port(text: str) -> int:
    """``--port``: a TCP port number."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    from assistant.answer.registry import REGISTRY

    description = __doc__.splitlines()[0].replace("``", "")  # help is plain text, not reST
    answerers_help = ("who writes the answer (default: $ASSISTANT_ANSWERER, else extractive) — "
                      + "; ".join(f"{name}: {entry.description}" for name, entry in REGISTRY.items()))
    p = _global_flags(argparse.ArgumentParser(prog="assistant", description=description))
    common = _global_flags(argparse.ArgumentParser(add_help=False), default=argparse.SUPPRESS)
    subparsers = p.add_subparsers(dest="command", required=True)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, help=help_, parents=[common])

    ix = command("index", "add, update and remove articles in the index")
    ix.add_argument("paths", nargs="+", help="files or folders (.txt .md .html .json .jsonl)")
    ix.add_argument("--keep-missing", action="store_true",
                    help="keep articles whose files disappeared from the indexed folders")
    ix.add_argument("--rebuild", action="store_true",
                    help="build the index anew from PATHS and the store's uploads/ (the files "
                         "uploaded in the UI); the old index answers until the new one is done")
    ix.add_argument("--drop-uploads", action="store_true",
                    help="with --rebuild: leave the store's uploads out of the new index")
    ix.add_argument("--ray", metavar="auto|ADDRESS",
                    help="embed on a Ray cluster (pip install -e '.[scale]'): 'auto' for the one "
                         "`ray start` runs here, or its host:port")

    command("status", "what the index holds")

    for name, help_ in (("ask", "answer one question"), ("chat", "interactive chat (REPL)")):
        q = command(name, help_)
        if name == "ask":
            q.add_argument("question")
            q.add_argument("--json", action="store_true", help="print the answer as JSON")
        q.add_argument("--since", help="only articles published on or after this date "
                                       "(2022-12-01, 'December 1, 2022')")
        q.add_argument("--until", help="only articles published on or before this date")
        q.add_argument("--source", action="append", default=[], help="only this outlet (repeatable)")
        q.add_argument("--include-undated", action=argparse.BooleanOptionalAction, default=None,
                       help="with --since/--until, also search articles without a publish date "
                            "(default: $ASSISTANT_INCLUDE_UNDATED, else no)")
        q.add_argument("--answerer", choices=list(REGISTRY), help=answerers_help)

    ui = command("ui", "start the chat UI in the browser")
    ui.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1; any other needs --auth or --no-auth)")
    ui.add_argument("--port", type=_port, default=7860)
    access = ui.add_mutually_exclusive_group()
    access.add_argument("--auth", help="user:password required to open the UI")
    access.add_argument("--no-auth", action="store_true",
                        help="serve a non-loopback --host without a password (on purpose)")
    ui.add_argument("--seeds", default="seeds", help="folder indexed on first run when the store is empty")

    ev = command("eval", "run the eval set and write reports")
    ev.add_argument("--set", dest="eval_set", help="eval set JSONL (default: eval/seeds.jsonl)")
    ev.add_argument("--answerer", action="append", choices=list(REGISTRY),
                    help="answerer(s) to compare (repeatable; default extractive)")
    ev.add_argument("--out", default="eval/out", help="report folder")
    ev.add_argument("--gate", help="thresholds JSON: exit 1 if a metric falls below it")

    be = command("bench", "external benchmarks")
    be.add_argument("suite", choices=["realtimeqa", "rgb", "perf", "chunking"])
    be.add_argument("--data", required=True, help="benchmark data folder or file")
    be.add_argument("--out", default="bench/out")
    be.add_argument("--limit", type=int, help="at most this many questions")
    return p


def _assistant(args: argparse.Namespace) -> Any:
    from assistant.app.assistant import Assistant

    overrides: dict[str, Any] = {}
    if args.store_dir:
        overrides["store_dir"] = Path(args.store_dir)
    if args.embedder:
        overrides["embedder"] = args.embedder
    if getattr(args, "answerer", None) and isinstance(args.answerer, str):
        overrides["answerer"] = args.answerer
    if getattr(args, "ray", None):
        overrides["ray_address"] = args.ray
    assistant = Assistant(**overrides)
    if args.command in ("ask", "chat", "ui"):
        assistant.answerer()  # an LLM answerer without its extra fails here, in one line
    return assistant


def _refuse_busy_port(host: str, port: int) -> None:
    """One line instead of Gradio's traceback (and an abort) when another program listens on
    ``port``. Like Gradio, a host given by name is checked on 127.0.0.1."""
    import errno
    import ipaddress
    import socket

    from assistant.kernel.errors import AssistantError

    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            host.strip().strip("[]"))
    except ValueError:
        address = ipaddress.IPv4Address("127.0.0.1")
    try:
        with socket.socket(socket.AF_INET6 if address.version == 6 else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            s.bind((str(address), port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise AssistantError(f"port {port} is in use — choose another with --port") from None
        # anything else (an address of another machine, a privileged port) the launch reports


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from pydantic import ValidationError

    from assistant.kernel.errors import AssistantError, StoreError

    try:
        return _run(args)
    except StoreError as e:  # the store, not the input: damaged, incompatible, disk full
        print(f"assistant: {e}", file=sys.stderr)
        return 3
    except AssistantError as e:
        print(f"assistant: {e}", file=sys.stderr)
        return 2
    except ValidationError as e:  # a bad ASSISTANT_* variable or flag value
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'settings'}: {err['msg']}"
                             for err in e.errors())
        print(f"assistant: invalid setting — {problems} (check ASSISTANT_* variables)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("assistant: interrupted — run the same command again to finish", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `assistant ask … | head`: the reader has what it wanted
        # Python flushes stdout again at exit; point it at /dev/null so that flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    from assistant.app import render
    from index import progress

    if args.command == "index":
        bars, report = progress.progress_bar(), None
        try:
            report = _assistant(args).index(args.paths, keep_missing=args.keep_missing,
                                            rebuild=args.rebuild, drop_uploads=args.drop_uploads,
                                            progress=bars)
        finally:
            bars.close(report)  # an error message after this starts a line of its own
        print(progress.index_report(report))
        return 1 if report.failed else 0
    if args.command == "status":
        print(render.status(_assistant(args).status()))
        return 0
    if args.command == "ask":
        answer = _assistant(args).ask(args.question, since=args.since, until=args.until,
                                      sources=args.source, include_undated=args.include_undated)
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json
              else render.answer(answer, include_hint=render.CLI_INCLUDE_HINT))
        return 0
    if args.command == "chat":
        return render.repl(_assistant(args), since=args.since, until=args.until, sources=args.source,
                           include_undated=args.include_undated)
    if args.command == "ui":
        from assistant.app.ui import launch

        _refuse_busy_port(args.host, args.port)
        launch(_assistant(args), host=args.host, port=args.port, auth=args.auth, seeds=args.seeds,
               no_auth=args.no_auth)
        return 0
    if args.command == "eval":
        from eval.runner import main as eval_main

        return eval_main(_assistant(args), args)
    if args.command == "bench":
        from bench.suites import main as bench_main

        return bench_main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
