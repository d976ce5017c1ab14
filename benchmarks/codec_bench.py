"""Codec speed: generated codecs beside plain construct and hand-written code.

Each seed message is parsed and built in the same run by three codecs:

* ``tlsspec``: the generated codec of ``benchmarks/specs/seed.tls`` (the
  messages as the RFCs print them, Extension untyped, so it does exactly the
  references' work), compiled into a temporary folder at start;
* ``construct``: the same definitions in plain construct primitives
  (``benchmarks/references.py``);
* ``hand``: a hand-written ``struct``/slicing parser and builder with every
  RFC check, the pure-Python ceiling.

The ClientHello, ServerHello and NewSessionTicket are OpenSSL's, captured in
process. A last table times the project's own ``tlsspec.generated`` codecs,
which also type every extension, on a full handshake's hot messages: both
hellos, Certificate, ServerKeyExchange and ServerHelloDone. Run:
``python -m benchmarks.codec_bench``.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import references as ref
from benchmarks.capture import capture_hellos
from tlsspec.codegen.generate import compile_files, write_output

SEED_SPEC = Path(__file__).with_name("specs") / "seed.tls"
ROUNDS = 5
TARGET = 0.25  # tlsspec's rate at least a quarter of the hand-written one


def _rate(fn: Callable[[], Any], *, seconds: float = 0.15) -> float:
    """Best calls per second over ROUNDS timed batches."""
    count = 1
    while True:
        start = time.perf_counter()
        for _ in range(count):
            fn()
        if time.perf_counter() - start > 0.02:
            break
        count *= 2
    per_batch = max(1, int(count * seconds / 0.02 / 4))
    best = 0.0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(per_batch):
            fn()
        best = max(best, per_batch / (time.perf_counter() - start))
    return best


def _seed_module() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="tlsspec-bench-"))
    write_output(folder / "bench_seed", compile_files([SEED_SPEC]))
    sys.path.insert(0, str(folder))
    return importlib.import_module("bench_seed.seed")


def _samples() -> dict[str, tuple[bytes, dict[str, Any]]]:
    hellos = capture_hellos()
    nst = hellos["NewSessionTicket"]
    return {
        "Alert": (bytes([2, 40]), {}),
        "Finished": (bytes(range(12)), {"verify_data_length": 12}),
        "NewSessionTicket": (nst[4:], {}),
        "ticket": (bytes(32) + (160).to_bytes(2, "big") + bytes(160) + bytes(32), {}),
        "ClientHello": (hellos["ClientHello"][4:], {}),
        "ServerHello": (hellos["ServerHello"][4:], {}),
        "Handshake": (hellos["ClientHello"], {}),
    }


def _project_samples() -> list[tuple[str, bytes, dict[str, Any]]]:
    """A full handshake's hot messages, for the project's own codecs.

    The hellos are OpenSSL's; the rest of the server's flight is made up
    at typical ECDHE_RSA sizes: two certificates, a P-256 point and a
    2048-bit RSA signature.
    """
    from tlsspec.generated.handshake import Handshake, KeyExchangeAlgorithm

    hellos = capture_hellos()
    ske = {
        "msg_type": "server_key_exchange",
        "body": {
            "params": {
                "curve_params": {"curve_type": "named_curve", "namedcurve": 23},
                "public": {"point": b"\x04" + bytes(64)},
            },
            "signed_params": {"algorithm": 0x0804, "signature": bytes(256)},
        },
    }
    # As the engine passes it: a member, not a name.
    ecdhe = {"key_exchange_algorithm": KeyExchangeAlgorithm.ec_diffie_hellman}
    certificate = {
        "msg_type": "certificate",
        "body": {"certificate_list": [bytes(900), bytes(800)]},
    }
    done = {"msg_type": "server_hello_done", "body": {}}
    return [
        ("ClientHello", hellos["ClientHello"], {}),
        ("ServerHello", hellos["ServerHello"], {}),
        ("Certificate", Handshake.build(certificate), {}),
        ("ServerKeyExchange", Handshake.build(ske, **ecdhe), ecdhe),
        ("ServerHelloDone", Handshake.build(done), {}),
    ]


def _row(name: str, rates: dict[str, float]) -> str:
    ratio = rates["tlsspec"] / rates["hand"]
    mark = "ok" if ratio >= TARGET else "SLOW"
    return (
        f"{name:<18}{rates['tlsspec']:>12,.0f}{rates['construct']:>12,.0f}"
        f"{rates['hand']:>12,.0f}{rates['hand'] / rates['tlsspec']:>9.2f}x"
        f"{rates['tlsspec'] / rates['construct']:>9.1f}x  {mark}"
    )


def main() -> int:
    seed = _seed_module()
    samples = _samples()
    header = (
        f"{'':<18}{'tlsspec/s':>12}{'construct/s':>12}{'hand/s':>12}"
        f"{'hand/ts':>10}{'ts/cons':>10}"
    )
    failures = 0
    for op in ("parse", "build"):
        print(f"\n{op} (target: tlsspec within {1 / TARGET:.0f}x of hand-written)")
        print(header)
        for name, (data, params) in samples.items():
            codec = getattr(seed, name)
            cons = getattr(ref, f"construct_{name}")
            hand_parse = getattr(ref, f"hand_parse_{name}")
            hand_build = getattr(ref, f"hand_build_{name}")
            value = codec.parse(data, **params)
            plain = hand_parse(data)
            assert codec.build(value, **params) == data == hand_build(plain)
            if op == "parse":
                rates = {
                    "tlsspec": _rate(lambda c=codec, d=data, p=params: c.parse(d, **p)),
                    "construct": _rate(lambda c=cons, d=data: c.parse(d)),
                    "hand": _rate(lambda f=hand_parse, d=data: f(d)),
                }
            else:
                rates = {
                    "tlsspec": _rate(
                        lambda c=codec, v=value, p=params: c.build(v, **p)
                    ),
                    "construct": _rate(lambda c=cons, v=plain: c.build(v)),
                    "hand": _rate(lambda f=hand_build, v=plain: f(v)),
                }
            failures += rates["tlsspec"] / rates["hand"] < TARGET
            print(_row(name, rates))
    print("\nproject codecs (tlsspec.generated, extensions typed)")
    from tlsspec.generated.handshake import Handshake

    for label, data, params in _project_samples():
        value = Handshake.parse(data, **params)
        assert Handshake.build(value, **params) == data
        parse = _rate(lambda d=data, p=params: Handshake.parse(d, **p))
        build = _rate(lambda v=value, p=params: Handshake.build(v, **p))
        print(
            f"{'Handshake(' + label + ')':<30} parse {parse:>9,.0f}/s"
            f"  build {build:>9,.0f}/s"
        )
    print(f"\n{failures} of {2 * len(samples)} rates below the target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
