"""Compile errors (mirrors ``codegen/diagnostics.py``).

Each names ``file:line:col``, shows the line with a caret under the spot,
says what is wrong and gives a fix. Errors of one compile come together, in
source order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsspec.codegen.diagnostics import SpecError

# (spec text, line, col, phrase of the message, phrase of the fix)
CASES = [
    pytest.param(
        "opaque Random[32];\nstruct {\n    uint8 a;\n    Randon random;\n} S;\n",
        4,
        5,
        "unknown type 'Randon'",
        "did you mean 'Random'",
        id="unknown-type-with-suggestion",
    ),
    pytest.param(
        "struct { uint8 a; } S;\nenum { x(1), (255) } S;\n",
        2,
        1,
        "duplicate definition of 'S' (first defined at ",
        "remove one definition or rename it",
        id="duplicate-definition",
    ),
    pytest.param(
        "enum { a(1), b(256), (255) } E;\n",
        1,
        14,
        "enum value 256 of 'b' does not fit the declared width",
        "(65535)",
        id="enum-value-over-width",
    ),
    pytest.param(
        "enum { a(1), b(0x10000), (0xFFFF) } E;\n",
        1,
        14,
        "enum value 65536 of 'b' does not fit the declared width",
        "fix the value",
        id="enum-value-over-hex-width",
    ),
    pytest.param(
        "struct { opaque x<10..5>; } S;\n",
        1,
        18,
        "vector floor 10 is above its ceiling 5",
        "swap the bounds",
        id="floor-above-ceiling",
    ),
    pytest.param(
        "struct {\n    uint16 odd[3];\n} S;\n",
        2,
        15,
        "fixed vector of 3 bytes is not a multiple of uint16's size (2 bytes)",
        "use a multiple of 2",
        id="fixed-size-not-a-multiple",
    ),
    pytest.param(
        "enum { a(1), b(2), (255) } T;\n"
        "struct {\n"
        "    T t;\n"
        "    select (t) {\n"
        "        case a: uint8 x;\n"
        "        case c: uint8 y;\n"
        "    };\n"
        "} S;\n",
        6,
        14,
        "case label 'c' is not a member of enum T",
        "use one of: a, b",
        id="case-label-not-in-enum",
    ),
    pytest.param(
        "struct {\n"
        "    uint8 t;\n"
        "    select (t) {\n"
        "        case a: uint8 x;\n"
        "    };\n"
        "} S;\n",
        3,
        13,
        "select tag 't' has type uint8, not an enum",
        "enum",
        id="select-on-non-enum",
    ),
    pytest.param(
        "struct { B b; } A;\nstruct { A a; } B;\n",
        2,
        10,
        "cyclic definition: A -> B -> A",
        "cycle",
        id="cyclic-definition",
    ),
    pytest.param(
        "struct { opaque x<0..2^32>; } S;\n",
        1,
        22,
        "vector ceiling 4294967296 is above 2^32-1",
        "at most 2^32-1",
        id="bound-above-2^32-1",
    ),
    pytest.param(
        "struct {\n    uint8 a\n    uint8 b;\n} S;\n",
        2,
        12,
        "missing ';'",
        "add ';' here",
        id="missing-semicolon",
    ),
    pytest.param(
        "enum {\n    a(1)\n    b(2),\n    (255)\n} E;\n",
        2,
        9,
        "missing ','",
        "add ',' here",
        id="missing-comma",
    ),
    pytest.param(
        "struct { uint8 a; } S;\n/* never closed\nstruct {} T;\n",
        2,
        1,
        "comment is never closed",
        "'*/'",
        id="unclosed-comment",
    ),
]


@pytest.mark.parametrize(("text", "line", "col", "message", "hint"), CASES)
def test_error_names_the_spot_what_is_wrong_and_a_fix(
    compile_error, text: str, line: int, col: int, message: str, hint: str
) -> None:
    err = compile_error(text)
    assert Path(err.pos.file).name == "spec.tls"
    assert (err.pos.line, err.pos.col) == (line, col)
    assert message in err.message
    assert hint in err.hint


@pytest.mark.parametrize(("text", "line", "col", "message", "hint"), CASES)
def test_rendered_error_shows_the_line_with_a_caret(
    compile_error, text: str, line: int, col: int, message: str, hint: str
) -> None:
    err = compile_error(text)
    rendered = err.render().splitlines()
    assert rendered[0] == f"{err.pos.file}:{line}:{col}: error: {err.message}"
    assert rendered[1] == "    " + text.splitlines()[line - 1]
    assert rendered[2] == "    " + " " * (col - 1) + "^"
    assert rendered[3] == f"  fix: {err.hint}"


# Literals and results past 2^128 are refused before they are computed or
# printed: Python will not convert a decimal string past 4300 digits, and
# nested powers would grow without bound.
HUGE = [
    pytest.param(
        "struct { opaque a<0.." + "9" * 4301 + ">; } A;\n",
        (1, 22),
        "number 99999999999999999999... (4301 characters) is too large",
        id="decimal-past-python-limit",
    ),
    pytest.param(
        "struct { opaque a<0..0x" + "F" * 4000 + ">; } A;\n",
        (1, 22),
        "number 0xFFFFFFFFFFFFFFFFFF... (4002 characters) is too large",
        id="hex-bound",
    ),
    pytest.param(
        "enum { a(0x" + "F" * 40 + "), (255) } E;\n",
        (1, 10),
        "is too large",
        id="enum-value",
    ),
    pytest.param(
        "struct { opaque a<0..((((2^64)^64)^64)^64)^64>; } A;\n",
        (1, 25),
        "vector ceiling is too large (above 2^128)",
        id="nested-powers",
    ),
    pytest.param(
        "struct { opaque a<0.." + "*".join(["2^64"] * 250) + ">; } A;\n",
        (1, 22),
        "vector ceiling is too large (above 2^128)",
        id="long-product",
    ),
    pytest.param(
        "struct { opaque a<0..2^(0-1)>; } A;\n",
        (1, 22),
        "exponent -1 is out of range",
        id="negative-exponent",
    ),
]


@pytest.mark.parametrize(("text", "spot", "message"), HUGE)
def test_numbers_too_large_for_any_field_are_errors_not_tracebacks(
    compile_error, text: str, spot: tuple[int, int], message: str
) -> None:
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == spot
    assert message in err.message
    assert "2^n with" in err.hint


def test_the_largest_accepted_value_is_2_to_the_128(compile_errors) -> None:
    # 2^128 itself passes the guard, and is then refused as a ceiling with
    # the message about vector lengths, naming the value.
    (err,) = compile_errors("struct { opaque a<0..2^64*2^64>; } A;\n")
    assert str(2**128) in err.message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("enum { a(1), (0) } E;\n", "raise the width marker to (255) or fix the value"),
        ("enum { a(300), (255) } E;\n", "raise the width marker to (65535) or fix"),
        ("enum { a(70000), (255) } E;\n", "raise the width marker to (16777215)"),
    ],
)
def test_width_hint_names_the_smallest_marker_that_fits(
    compile_error, text: str, hint: str
) -> None:
    assert compile_error(text).hint.startswith(hint)


def test_a_negative_ceiling_is_named_as_such(compile_error) -> None:
    err = compile_error("struct { opaque x<0..2^16-1-2^16>; } S;\n")
    assert err.message == "vector ceiling -1 is negative"
    assert (err.pos.line, err.pos.col) == (1, 22)


def test_duplicate_definition_names_the_first_position(compile_error) -> None:
    err = compile_error("struct { uint8 a; } S;\nenum { x(1), (255) } S;\n")
    assert f"{err.pos.file}:1:1" in err.message


def test_several_errors_in_one_file_come_in_source_order(compile_errors) -> None:
    errors: list[SpecError] = compile_errors(
        "struct { opaque x<9..2>; } T;\n"
        "struct { Foo a; } S;\n"
        "enum { a(300), (255) } E;\n"
        "struct { Bar b; uint16 odd[3]; } U;\n"
        "struct { uint8 t; select (t) { case a: uint8 x; }; } V;\n"
    )
    assert [(e.pos.line, e.pos.col) for e in errors] == [
        (1, 18),
        (2, 10),
        (3, 8),
        (4, 10),
        (4, 27),
        (5, 27),
    ]
    assert [e.message.split(" ")[0] for e in errors] == [
        "vector",
        "unknown",
        "enum",
        "unknown",
        "fixed",
        "select",
    ]


def test_errors_of_files_compiled_together_come_together(compile_errors) -> None:
    errors = compile_errors(
        {
            "a.tls": "struct { Foo a; } S;\n",
            "b.tls": "struct { Bar a; } T;\nenum { a(300), (255) } E;\n",
        }
    )
    assert [(Path(e.pos.file).name, e.pos.line) for e in errors] == [
        ("a.tls", 1),
        ("b.tls", 1),
        ("b.tls", 2),
    ]


def test_syntax_errors_in_several_definitions_come_together(compile_errors) -> None:
    # Parsing resumes at the definition after a syntax error, so each broken
    # definition is reported once.
    errors = compile_errors(
        "struct {\n    uint8 a\n} S;\nstruct {\n    uint8 b\n} T;\n"
    )
    assert [(e.pos.line, e.pos.col) for e in errors] == [(2, 12), (5, 12)]


# -- names the generated module keeps for itself ------------------------------


@pytest.mark.parametrize(
    ("text", "col"),
    [
        pytest.param("struct { uint8 a; } ENUM_RANGES;\n", 1, id="struct"),
        pytest.param("enum { a(1), (255) } ENUM_RANGES;\n", 1, id="enum"),
        pytest.param("uint8 ENUM_RANGES = 1;\n", 7, id="constant"),
    ],
)
def test_a_definition_may_not_take_the_module_s_enum_ranges_table(
    compile_error, text: str, col: int
) -> None:
    # It used to be silently replaced by the table of enum ranges.
    err = compile_error(text + "enum { a(1), r(2..5), (255) } E;\n")
    assert (err.pos.line, err.pos.col) == (1, col)
    assert err.message == (
        "'ENUM_RANGES' would be the Python name 'ENUM_RANGES', which the "
        "generated code needs for itself"
    )
    assert err.hint == "rename the definition"


# -- long lines and long definitions -------------------------------------------


def test_a_long_line_is_echoed_as_a_window_with_the_caret_in_place(
    compile_error,
) -> None:
    line = "struct { opaque a<0.." + "1+" * 300 + "Q" + "+1" * 300 + ">; } X;"
    err = compile_error(line + "\n")
    col = line.index("Q") + 1
    assert (err.pos.line, err.pos.col) == (1, col)
    shown, caret = err.render().splitlines()[1:3]
    assert shown == "    ..." + line[col - 51 : col + 49] + "..."
    assert caret == "    " + " " * 53 + "^"
    assert shown[caret.index("^")] == "Q"


def test_a_long_line_is_clipped_at_its_end_without_a_trailing_marker(
    compile_error,
) -> None:
    line = "struct { opaque a<0.." + "1+" * 300 + "1>; } X; struct { Q q; } Y;"
    err = compile_error(line + "\n")
    shown, caret = err.render().splitlines()[1:3]
    assert shown == "    ..." + line[-100:]
    assert shown[caret.index("^") :].startswith("Q q;")


def test_a_definition_too_long_to_compile_says_so_where_it_starts(
    compile_error,
) -> None:
    text = "struct {} E;\nstruct { opaque a<0.." + "+".join(["1"] * 20000) + ">; } X;\n"
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == (2, 1)
    assert err.message == "this definition is too long or too deeply nested to compile"
    assert err.hint == (
        "write a long expression as its value, and move nested structs and "
        "selects into named types"
    )
    assert len(err.render()) < 400


# -- syntax errors that are not a missing ';' ----------------------------------

NUMBER_HINT = (
    "write decimal digits (255), hexadecimal digits after '0x' (0xFF), or a "
    "power with '^' (2^16)"
)


@pytest.mark.parametrize(
    ("text", "col", "message", "hint"),
    [
        pytest.param(
            "struct { opaque a<0..2^2^2>; } X;\n",
            25,
            "chained powers are not supported",
            "write the value as one power, e.g. 2^16, or group with parentheses, "
            "e.g. (2^2)^2",
            id="chained-power",
        ),
        pytest.param(
            "struct { opaque a<0..(2^2)^2^2>; } X;\n",
            29,
            "chained powers are not supported",
            "write the value as one power, e.g. 2^16, or group with parentheses, "
            "e.g. (2^2)^2",
            id="chained-power-after-parentheses",
        ),
        pytest.param(
            "struct { opaque a<0..0x>; } X;\n",
            22,
            "malformed number '0x'",
            "write hexadecimal digits 0-9 and A-F after '0x', e.g. 0xFF",
            id="hex-without-digits",
        ),
        pytest.param(
            "struct { opaque a<0..0xFG>; } X;\n",
            22,
            "malformed number '0xFG'",
            "write hexadecimal digits 0-9 and A-F after '0x', e.g. 0xFF",
            id="hex-with-a-letter-past-F",
        ),
        pytest.param(
            "struct { opaque a<0..1e5>; } X;\n",
            22,
            "malformed number '1e5'",
            NUMBER_HINT,
            id="exponent-notation",
        ),
        pytest.param(
            "enum { a(12abc), (255) } E;\n",
            10,
            "malformed number '12abc'",
            NUMBER_HINT,
            id="in-an-enum-value",
        ),
    ],
)
def test_a_misread_number_is_named_for_what_it_is(
    compile_error, text: str, col: int, message: str, hint: str
) -> None:
    # These used to report a missing ';' before the token.
    err = compile_error(text)
    assert (err.pos.line, err.pos.col) == (1, col)
    assert err.message == message
    assert err.hint == hint
