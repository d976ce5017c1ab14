"""Handshake ladders drawn from the bytes that really crossed."""

from __future__ import annotations

import json

from tests.support.openssl import make_rsa_identity, run_openssl_pair, ssl_context
from tlsspec.trace import CLIENT, SERVER, WireTrace, render_json, render_ladder


def _trace(result: object) -> WireTrace:
    trace = WireTrace()
    for sender, data in result.transcript:  # type: ignore[attr-defined]
        trace.feed(sender, data)
    return trace


def test_full_then_resumed_openssl_handshakes_draw_rfc5077_ladders() -> None:
    identity = make_rsa_identity(common_name="example.com", san=("example.com",))
    client = ssl_context("client", alpn=("h2",), tickets=True)
    server = ssl_context("server", identity, alpn=("h2",), tickets=True)
    full = run_openssl_pair(client, server, server_hostname="example.com")
    trace = _trace(full)
    assert [(e.sender, e.label()) for e in trace.entries] == [
        (CLIENT, "ClientHello"),
        (SERVER, "ServerHello"),
        (SERVER, "Certificate"),
        (SERVER, "ServerKeyExchange"),
        (SERVER, "ServerHelloDone"),
        (CLIENT, "ClientKeyExchange"),
        (CLIENT, "[ChangeCipherSpec]"),
        (CLIENT, "Finished"),
        (SERVER, "NewSessionTicket"),
        (SERVER, "[ChangeCipherSpec]"),
        (SERVER, "Finished"),
    ]
    ladder = render_ladder(trace.entries).splitlines()
    assert ladder[0].split() == ["Client", "Server"]
    assert ladder[2].startswith("ClientHello") and ladder[2].endswith("-------->")
    assert ladder[6].endswith("ServerHelloDone") and "<--------" in ladder[6]
    assert ladder[7] == "ClientKeyExchange"
    assert ladder[8] == "[ChangeCipherSpec]"
    assert trace.entries[0].summary["sni"] == "example.com"
    assert trace.entries[3].summary["group"] == "x25519"
    assert trace.entries[8].summary["lifetime_hint"] == 7200

    resumed = _trace(
        run_openssl_pair(
            client, server, server_hostname="example.com", session=full.client.session
        )
    )
    assert [e.label() for e in resumed.entries] == [
        "ClientHello",
        "ServerHello",
        "[ChangeCipherSpec]",
        "Finished",
        "[ChangeCipherSpec]",
        "Finished",
    ]
    hello = resumed.entries[0].summary
    assert hello["ticket"] > 0
    assert resumed.entries[1].summary["session_id"] == hello["session_id"]
    lines = [json.loads(line) for line in render_json(resumed.entries).splitlines()]
    assert [line["message"] for line in lines][:2] == ["ClientHello", "ServerHello"]
    assert lines[0]["sender"] == "client"


def test_plaintext_alerts_are_named() -> None:
    trace = WireTrace()
    trace.feed(SERVER, bytes.fromhex("15030300020228"))
    assert trace.entries[0].summary == {
        "level": "fatal",
        "description": "handshake_failure",
    }
