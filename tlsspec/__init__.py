"""tlsspec: RFC presentation-language TLS definitions compiled to construct codecs."""

from tlsspec.errors import DecodeError, EncodeError

__all__ = ["DecodeError", "EncodeError"]
