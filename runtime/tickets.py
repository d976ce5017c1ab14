"""Session tickets: sealing and opening RFC 5077 tickets, and their keys.

A server that issues tickets keeps no session cache: it seals the session
state into a ticket the client stores and hands back when it resumes
(RFC 5077 §3).  This module owns three things:

* :class:`TicketKey`, one key set (a public name, an AES key and an HMAC
  key), which can come from an nginx ``ssl_session_ticket_key`` file so a
  fleet of servers shares keys with nginx tooling;
* :class:`TicketKeyRing`, the keys a server holds: the newest key seals,
  every key still in the ring is tried when opening, and a key that stopped
  being current drops out after a retire window;
* :class:`SessionState`, what a ticket carries, encoded with the generated
  ``StatePlaintext`` codec, and :func:`seal_session` / :func:`open_session`,
  which join the two and check the state's lifetime.

The ticket follows the construction RFC 5077 §4 recommends: AES in CBC mode
with PKCS #7 padding, then HMAC-SHA-256 over every byte before the MAC
(encrypt-then-MAC).  Opening checks the MAC, in constant time, before
anything is decrypted.

A ticket that cannot be opened is not an error: "If the server fails to
verify the ticket, then it falls back to performing a full handshake"
(RFC 5077 §3.2).  So :meth:`TicketKeyRing.unseal`
and :func:`open_session` return ``None`` for every refusal, never raise,
and log one DEBUG line saying why.  Key bytes are never logged; key names
are, because they travel in the clear in every ticket.

LIMITATION: nginx (through OpenSSL) writes key_name, IV, ciphertext, MAC
with no length before the ciphertext, around an ASN.1 ``SSL_SESSION``;
matters when nginx and tlsspec servers share a key file behind one load
balancer; instead each refuses the other's tickets and the client gets a
full handshake.  The key files themselves are interchangeable.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from types import MappingProxyType, UnionType
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.constant_time import bytes_eq

from tlsspec.errors import DecodeError
from tlsspec.generated.handshake import CipherSuite, CompressionMethod
from tlsspec.generated.record import ProtocolVersion
from tlsspec.generated.ticket import (
    ClientAuthenticationType,
    MasterSecretKind,
    StatePlaintext,
)
from tlsspec.generated.ticket import ticket as ticket_codec
from tlsspec.runtime.files import FileTooLargeError, NotARegularFileError, read_regular
from tlsspec.runtime.prf import MASTER_SECRET_LENGTH
from tlsspec.runtime.sources import (
    Clock,
    Random,
    check_callable,
    checked_clock,
    checked_random,
)

__all__ = [
    "AES_KEY_LENGTHS",
    "CLOCK_SKEW_ALLOWANCE",
    "DEFAULT_RETIRE_AFTER",
    "HMAC_KEY_LENGTHS",
    "IV_LENGTH",
    "KEY_NAME_LENGTH",
    "MAC_LENGTH",
    "MAX_STATE_LENGTH",
    "NGINX_AES128_KEY_FILE_LENGTH",
    "NGINX_AES256_KEY_FILE_LENGTH",
    "SessionState",
    "TicketKey",
    "TicketKeyRing",
    "Unsealed",
    "open_session",
    "seal_session",
]

_log = logging.getLogger(__name__)

# RFC 5077 §4:
#     struct {
#         opaque key_name[16];
#         opaque iv[16];
#         opaque encrypted_state<0..2^16-1>;
#         opaque mac[32];
#     } ticket;
KEY_NAME_LENGTH: Final = 16
IV_LENGTH: Final = 16
MAC_LENGTH: Final = 32
# The 2-byte length of encrypted_state, covered by the MAC.
_STATE_LENGTH_PREFIX: Final = 2

#: AES-128 or AES-256.
AES_KEY_LENGTHS: Final = (16, 32)
#: HMAC-SHA-256 keys of the two sizes nginx key files carry.
HMAC_KEY_LENGTHS: Final = (16, 32)
# RFC 5077 §4: "one 256-bit key for HMAC-SHA-256".
_GENERATED_HMAC_KEY_LENGTH: Final = 32

# nginx ssl_session_ticket_key files, as nginx's ngx_ssl_session_ticket_keys()
# reads them: 48 bytes are name | AES-128 key | HMAC key (16 each); 80 bytes
# are name | HMAC key (32) | AES-256 key (32).  Note the swapped order.
NGINX_AES128_KEY_FILE_LENGTH: Final = 48
NGINX_AES256_KEY_FILE_LENGTH: Final = 80
_AES128_KEY_LENGTH: Final = 16
_NGINX_LONG_HMAC_KEY: Final = 32

_AES_BLOCK_BYTES: Final = algorithms.AES.block_size // 8
# RFC 5077 §3.3: NewSessionTicket carries opaque ticket<0..2^16-1>, so the
# whole ticket, not only encrypted_state, must fit 65535 bytes.  PKCS #7 adds
# one to sixteen bytes, so the longest state is one less than the longest whole
# number of blocks that fits.
_MAX_TICKET_LENGTH: Final = 2**16 - 1
_OVERHEAD: Final = KEY_NAME_LENGTH + IV_LENGTH + _STATE_LENGTH_PREFIX + MAC_LENGTH
_MAX_BLOCKS: Final = (_MAX_TICKET_LENGTH - _OVERHEAD) // _AES_BLOCK_BYTES
#: The longest state :meth:`TicketKeyRing.seal` accepts.
MAX_STATE_LENGTH: Final = _MAX_BLOCKS * _AES_BLOCK_BYTES - 1

#: Seconds a key that stopped being current still opens tickets.  RFC 5077
#: §5.5 asks servers to rotate keys; the old key must outlive the tickets it
#: sealed, so this should be at least the longest ticket lifetime granted.
DEFAULT_RETIRE_AFTER: Final = 2 * 86400.0

#: Seconds a ticket's creation time may lie ahead of ``now`` before it is
#: refused: servers of a fleet never agree on the time exactly.
CLOCK_SKEW_ALLOWANCE: Final = 60

_PKCS7: Final = padding.PKCS7(algorithms.AES.block_size)
_SHA256: Final = hashes.SHA256()
# seal() builds the ticket once with this in the mac field, then swaps in
# the real MAC over every byte before it.
_MAC_PLACEHOLDER: Final = bytes(MAC_LENGTH)

# RFC 6066 §3: HostName<1..2^16-1>; RFC 7301 §3.1: ProtocolName<1..2^8-1>.
_MAX_SERVER_NAME_LENGTH: Final = 2**16 - 1
_MAX_ALPN_LENGTH: Final = 2**8 - 1
_MAX_UINT16: Final = 2**16 - 1
_MAX_UINT32: Final = 2**32 - 1

# The StatePlaintext values this runtime writes, looked up once.
_NULL_COMPRESSION: Final = CompressionMethod.null
_ANONYMOUS: Final = ClientAuthenticationType.anonymous
_NO_CLIENT_IDENTITY: Final = MappingProxyType(
    {"client_authentication_type": _ANONYMOUS}
)
_STANDARD: Final = MasterSecretKind.standard
_EXTENDED: Final = MasterSecretKind.extended


def _require(name: str, value: object, allowed: tuple[int, ...]) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) not in allowed:
        expected = " or ".join(str(n) for n in allowed)
        raise ValueError(f"{name} must be {expected} bytes, got {len(value)}")


def _wrong_key_file_size(size: int) -> ValueError:
    return ValueError(
        f"nginx session ticket key is {size} bytes; expected "
        f"{NGINX_AES128_KEY_FILE_LENGTH} (name, AES-128 key, HMAC key) or "
        f"{NGINX_AES256_KEY_FILE_LENGTH} (name, HMAC key, AES-256 key)"
    )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class TicketKey:
    """One ticket key set: the name that travels in tickets, and two keys.

    Keys compare equal in constant time, and their ``repr`` shows only the
    public name and the key sizes.

    Attributes:
        name: 16 bytes, sent in the clear as ``ticket.key_name`` so the
            server can tell which key sealed a ticket.
        aes_key: 16 bytes (AES-128) or 32 bytes (AES-256).
        hmac_key: 16 or 32 bytes, for HMAC-SHA-256.

    Raises:
        TypeError: A field is not ``bytes``.
        ValueError: A field has the wrong length.
    """

    name: bytes
    aes_key: bytes
    hmac_key: bytes

    def __post_init__(self) -> None:
        _require("TicketKey.name", self.name, (KEY_NAME_LENGTH,))
        _require("TicketKey.aes_key", self.aes_key, AES_KEY_LENGTHS)
        _require("TicketKey.hmac_key", self.hmac_key, HMAC_KEY_LENGTHS)

    def __repr__(self) -> str:
        return (
            f"TicketKey(name={self.name.hex()}, "
            f"aes_key=<{8 * len(self.aes_key)} bits>, "
            f"hmac_key=<{8 * len(self.hmac_key)} bits>)"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TicketKey):
            return NotImplemented
        # Secrets are never compared with ==, which stops at the first
        # differing byte.
        return (
            self.name == other.name
            and bytes_eq(self.aes_key, other.aes_key)
            and bytes_eq(self.hmac_key, other.hmac_key)
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def generate(
        cls, *, aes_key_length: int = 16, random: Random = os.urandom
    ) -> TicketKey:
        """Make a key set from fresh random bytes.

        The HMAC key is 32 bytes whatever the AES key length: RFC 5077 §4
        pairs AES-128 with a 256-bit HMAC-SHA-256 key.

        Args:
            aes_key_length: 16 for AES-128, 32 for AES-256.
            random: Source of random bytes, called as ``random(n)``.

        Returns:
            A new key with a random name.

        Raises:
            TypeError: ``aes_key_length`` is not an int, ``random`` is not
                callable, or it returned something other than bytes.
            ValueError: ``aes_key_length`` is neither 16 nor 32, or
                ``random(n)`` returned other than ``n`` bytes.
        """
        if type(aes_key_length) is not int:
            raise TypeError(
                f"aes_key_length: expected an int (16 or 32), "
                f"got {type(aes_key_length).__name__}"
            )
        if aes_key_length not in AES_KEY_LENGTHS:
            raise ValueError(
                f"aes_key_length must be 16 or 32 bytes, got {aes_key_length}"
            )
        check_callable("random", random)
        random = checked_random(random)
        return cls(
            name=random(KEY_NAME_LENGTH),
            aes_key=random(aes_key_length),
            hmac_key=random(_GENERATED_HMAC_KEY_LENGTH),
        )

    @classmethod
    def from_nginx_bytes(cls, data: bytes) -> TicketKey:
        """Read the contents of an nginx ``ssl_session_ticket_key`` file.

        48 bytes hold name, AES-128 key and HMAC key, 16 bytes each.  80
        bytes hold name (16), HMAC key (32), then AES-256 key (32): nginx
        puts the HMAC key first in the longer layout.

        Args:
            data: The whole file, 48 or 80 bytes.

        Returns:
            The key set, with the key sizes the layout implies.

        Raises:
            ValueError: ``data`` is neither 48 nor 80 bytes long.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(
                f"nginx key file contents must be bytes, got {type(data).__name__}"
            )
        data = bytes(data)
        name, rest = data[:KEY_NAME_LENGTH], data[KEY_NAME_LENGTH:]
        if len(data) == NGINX_AES128_KEY_FILE_LENGTH:
            aes_key, hmac_key = rest[:_AES128_KEY_LENGTH], rest[_AES128_KEY_LENGTH:]
            return cls(name=name, aes_key=aes_key, hmac_key=hmac_key)
        if len(data) == NGINX_AES256_KEY_FILE_LENGTH:
            hmac_key, aes_key = rest[:_NGINX_LONG_HMAC_KEY], rest[_NGINX_LONG_HMAC_KEY:]
            return cls(name=name, aes_key=aes_key, hmac_key=hmac_key)
        raise _wrong_key_file_size(len(data))

    @classmethod
    def from_nginx_file(cls, path: str | os.PathLike[str]) -> TicketKey:
        """Load an nginx ``ssl_session_ticket_key`` file.

        Args:
            path: The key file, e.g. one made with ``openssl rand 80``.

        Returns:
            The key set the file holds.

        Raises:
            TypeError: ``path`` is not a path (a file descriptor, say).
            OSError: The file cannot be read.
            ValueError: The file is not a regular file (a device, a FIFO,
                a directory), or is neither 48 nor 80 bytes long; the
                message names the file.  At most 81 bytes are read.
        """
        if not isinstance(path, str | os.PathLike):
            raise TypeError(
                f"path must be a str or os.PathLike, got {type(path).__name__}"
            )
        try:
            data = read_regular(path, limit=NGINX_AES256_KEY_FILE_LENGTH)
        except NotARegularFileError:
            raise ValueError(
                f"{os.fspath(path)}: not a regular file; an nginx session "
                f"ticket key file holds {NGINX_AES128_KEY_FILE_LENGTH} or "
                f"{NGINX_AES256_KEY_FILE_LENGTH} bytes"
            ) from None
        except FileTooLargeError as error:
            raise ValueError(
                f"{os.fspath(path)}: {_wrong_key_file_size(error.size)}"
            ) from None
        try:
            return cls.from_nginx_bytes(data)
        except ValueError as exc:
            raise ValueError(f"{os.fspath(path)}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Unsealed:
    """What :meth:`TicketKeyRing.unseal` found in a ticket.

    Attributes:
        state: The plaintext the ticket sealed.
        renew: True when a key other than the current one sealed the
            ticket: the server should send the client a fresh ticket
            (RFC 5077 §3.3 lets it issue a new one on resumption).
    """

    state: bytes = field(repr=False)
    renew: bool


class _Slot:
    # One key of the ring with its cryptography objects built once, and when
    # it stopped being current.  An HMAC keyed once is copied for each use.
    #
    # A CBC cipher context costs more to create than to run over a ticket,
    # so each slot keeps one encryption and one decryption context open for
    # its whole life and resumes their CBC chains for every ticket.  Each
    # ticket still comes out exactly as a fresh context under its own IV
    # would produce:
    #
    # * Encrypting: the open context chains from C, the last block it
    #   wrote.  Feeding M1 XOR IV XOR C first makes its output
    #   E(M1 XOR IV), the first block of CBC under IV, and the rest follows.
    # * Decrypting: feeding IV ahead of the ciphertext makes IV the block
    #   the ciphertext chains from; the first output block, D(IV) XOR the
    #   context's old chaining value, is dropped.
    #
    # The lock keeps a context's chain and ``chain`` in step when several
    # threads share a ring.
    __slots__ = ("chain", "decryptor", "encryptor", "key", "lock", "mac", "retired_at")

    def __init__(self, key: TicketKey, retired_at: float | None) -> None:
        self.key = key
        aes = algorithms.AES(key.aes_key)
        self.chain = bytes(_AES_BLOCK_BYTES)
        self.encryptor = Cipher(aes, modes.CBC(self.chain)).encryptor()
        self.decryptor = Cipher(aes, modes.CBC(self.chain)).decryptor()
        self.lock = threading.Lock()
        self.mac = hmac.HMAC(key.hmac_key, _SHA256)
        self.retired_at = retired_at

    def encrypt(self, iv: bytes, padded: bytes) -> bytes:
        # AES-CBC of ``padded`` (whole blocks, at least one) under ``iv``.
        head = int.from_bytes(padded[:_AES_BLOCK_BYTES], "big") ^ int.from_bytes(
            iv, "big"
        )
        with self.lock:
            first = head ^ int.from_bytes(self.chain, "big")
            encrypted = self.encryptor.update(
                first.to_bytes(_AES_BLOCK_BYTES, "big") + padded[_AES_BLOCK_BYTES:]
            )
            self.chain = encrypted[-_AES_BLOCK_BYTES:]
        return encrypted

    def decrypt(self, iv: bytes, encrypted: bytes) -> bytes:
        # AES-CBC decryption of ``encrypted`` (whole blocks) under ``iv``.
        with self.lock:
            return self.decryptor.update(iv + encrypted)[_AES_BLOCK_BYTES:]


def _reject(reason: str, *args: object) -> None:
    _log.debug("ticket rejected: " + reason, *args)


class TicketKeyRing:
    """The ticket keys of one server, or of a fleet sharing them.

    The current key seals every new ticket; :meth:`unseal` tries every key
    still in the ring, found by the ticket's key_name.  A key that stops
    being current, because :meth:`rotate` replaced it or because it was
    given as a previous key, stays for ``retire_after`` seconds of the
    injected clock and then drops out.

    The first key given is the current one and the rest are previous keys,
    in the order nginx reads several ``ssl_session_ticket_key`` lines: its
    first file seals, the others only open tickets (which it then renews).
    Unlike nginx, which keeps file keys until it reloads, previous keys here
    count as retired from the moment they join the ring; pass
    ``retire_after=math.inf`` to keep them.

    Args:
        keys: Current key first, then previous keys.  May be empty; then
            :meth:`add` or :meth:`rotate` must supply a key before sealing.
        retire_after: Seconds a key that is no longer current still opens
            tickets; at least the longest ticket lifetime granted.
        clock: Seconds since the epoch, called when a key retires and when
            a ticket from a retired key arrives.
        random: Source of random bytes for IVs and for :meth:`rotate`.
            What either returns is checked on each call (see
            :mod:`tlsspec.runtime.sources`): a wrong value raises
            TypeError or ValueError from the call that drew it.

    Raises:
        TypeError: ``keys`` is not an iterable of TicketKey,
            ``retire_after`` is not a number, or ``clock`` or ``random`` is
            not callable.
        ValueError: ``retire_after`` is negative or NaN, or two keys share
            a name.
    """

    def __init__(
        self,
        keys: Iterable[TicketKey] = (),
        *,
        retire_after: float = DEFAULT_RETIRE_AFTER,
        clock: Clock = time.time,
        random: Random = os.urandom,
    ) -> None:
        if not isinstance(retire_after, int | float) or isinstance(retire_after, bool):
            raise TypeError(
                f"retire_after: expected a number of seconds, "
                f"got {type(retire_after).__name__}"
            )
        if not retire_after >= 0:
            raise ValueError(f"retire_after must be >= 0 seconds, got {retire_after}")
        check_callable("clock", clock)
        check_callable("random", random)
        self._retire_after = retire_after
        self._clock = checked_clock(clock)
        self._random = checked_random(random)
        # Writers replace the dict, never change it in place, so unseal()
        # and keys read a consistent snapshot without the lock; the lock
        # keeps concurrent writers from losing each other's changes.
        self._slots: dict[bytes, _Slot] = {}
        self._current: _Slot | None = None
        self._write_lock = threading.Lock()
        if isinstance(keys, TicketKey | bytes | str) or not isinstance(keys, Iterable):
            raise TypeError(
                f"keys: expected an iterable of TicketKey, got {type(keys).__name__}"
            )
        for key in keys:
            self.add(key)

    @classmethod
    def generate(
        cls,
        *,
        aes_key_length: int = 16,
        retire_after: float = DEFAULT_RETIRE_AFTER,
        clock: Clock = time.time,
        random: Random = os.urandom,
    ) -> TicketKeyRing:
        """Make a ring holding one fresh key.

        Args:
            aes_key_length: 16 for AES-128, 32 for AES-256.
            retire_after: As for the constructor.
            clock: As for the constructor.
            random: Source of the key and, later, of IVs.

        Returns:
            A ring whose current key is new.

        Raises:
            TypeError: An argument has the wrong type, or ``clock`` or
                ``random`` is not callable.
            ValueError: ``aes_key_length`` or ``retire_after`` is invalid.
        """
        key = TicketKey.generate(aes_key_length=aes_key_length, random=random)
        return cls((key,), retire_after=retire_after, clock=clock, random=random)

    @property
    def retire_after(self) -> float:
        """Seconds a key that stopped being current still opens tickets."""
        return self._retire_after

    @property
    def current(self) -> TicketKey:
        """The key that seals new tickets.

        Raises:
            LookupError: The ring holds no key.
        """
        if self._current is None:
            raise LookupError("the ticket key ring holds no key")
        return self._current.key

    @property
    def keys(self) -> tuple[TicketKey, ...]:
        """Every key that still opens tickets, the current one first."""
        self._drop_retired(self._clock())
        return tuple(slot.key for slot in self._slots.values())

    def add(self, key: TicketKey) -> None:
        """Add a key, e.g. one loaded with :meth:`TicketKey.from_nginx_file`.

        The first key of an empty ring becomes current; any later one is a
        previous key, which opens tickets but never seals, and retires now.

        Args:
            key: The key to add.

        Raises:
            ValueError: The ring already holds a key with that name.
        """
        if not isinstance(key, TicketKey):
            raise TypeError(f"key must be a TicketKey, got {type(key).__name__}")
        with self._write_lock:
            if key.name in self._slots:
                raise ValueError(
                    f"the ring already holds a ticket key named {key.name.hex()}"
                )
            if self._current is None:
                slot = self._current = _Slot(key, None)
            else:
                slot = _Slot(key, self._clock())
            self._slots = {**self._slots, key.name: slot}

    def rotate(self) -> TicketKey:
        """Make a freshly generated key current; the old one starts retiring.

        The new key has the current key's AES key length (AES-128 for an
        empty ring).  Keys whose retire window has passed drop out.

        Returns:
            The new current key.

        Raises:
            ValueError: The random source repeated a key name.
        """
        with self._write_lock:
            now = self._clock()
            previous = self._current
            length = (
                AES_KEY_LENGTHS[0] if previous is None else len(previous.key.aes_key)
            )
            key = TicketKey.generate(aes_key_length=length, random=self._random)
            if key.name in self._slots:
                raise ValueError(
                    f"rotate() produced a duplicate key name {key.name.hex()}"
                )

            # The new key goes first, so iteration order stays newest first.
            self._current = _Slot(key, None)
            self._slots = {key.name: self._current, **self._slots}
            if previous is not None:
                previous.retired_at = now
                _log.debug(
                    "ticket key %s is now current; %s retires in %s s",
                    key.name.hex(),
                    previous.key.name.hex(),
                    self._retire_after,
                )
        self._drop_retired(now)
        return key

    def seal(self, state: bytes) -> bytes:
        """Seal ``state`` into an RFC 5077 §4 ticket under the current key.

        Args:
            state: The plaintext, e.g. ``SessionState.to_bytes()``.

        Returns:
            The ticket: key_name, a fresh random IV, the AES-CBC encryption
            of ``state`` with PKCS #7 padding (with its 2-byte length), and
            HMAC-SHA-256 over all of those.

        Raises:
            TypeError: ``state`` is not bytes, bytearray or memoryview.
            LookupError: The ring holds no key.
            ValueError: ``state`` is longer than :data:`MAX_STATE_LENGTH`.
        """
        if type(state) is not bytes:
            if not isinstance(state, bytes | bytearray | memoryview):
                raise TypeError(
                    f"state: expected bytes, bytearray or memoryview, "
                    f"got {type(state).__name__}"
                )
            state = memoryview(state).tobytes()
        slot = self._current
        if slot is None:
            raise LookupError("cannot seal a ticket: the key ring holds no key")
        if len(state) > MAX_STATE_LENGTH:
            raise ValueError(
                f"ticket state is {len(state)} bytes; at most "
                f"{MAX_STATE_LENGTH} fit a NewSessionTicket"
            )

        # RFC 5077 §4: encrypt the padded state under a fresh IV.
        iv = self._random(IV_LENGTH)
        padder = _PKCS7.padder()
        padded = padder.update(state) + padder.finalize()
        encrypted = slot.encrypt(iv, padded)

        # The MAC covers key_name, iv and encrypted_state with its length:
        # every byte of the ticket before the mac field.
        built = ticket_codec.build(
            {
                "key_name": slot.key.name,
                "iv": iv,
                "encrypted_state": encrypted,
                "mac": _MAC_PLACEHOLDER,
            }
        )
        authenticated = built[:-MAC_LENGTH]
        mac = slot.mac.copy()
        mac.update(authenticated)
        return authenticated + mac.finalize()

    def unseal(self, ticket: bytes) -> Unsealed | None:
        """Authenticate and decrypt a ticket sealed by any key in the ring.

        Every refusal returns ``None`` and logs one DEBUG line naming the
        reason: malformed ticket, unknown key name (including a key whose
        retire window has passed), bad MAC, bad padding.

        Args:
            ticket: The ticket from the client's SessionTicket extension.

        Returns:
            The sealed state and whether to renew the ticket, or ``None``.
        """
        if type(ticket) is not bytes:
            if not isinstance(ticket, bytearray | memoryview):
                raise TypeError(
                    f"ticket must be bytes, bytearray or memoryview, "
                    f"got {type(ticket).__name__}"
                )
            # Any layout or item format: the ticket is its bytes.
            ticket = memoryview(ticket).tobytes()
        try:
            fields = ticket_codec.parse(ticket)
        except DecodeError:
            _reject("malformed ticket (%d bytes)", len(ticket))
            return None
        encrypted = fields["encrypted_state"]
        if not encrypted or len(encrypted) % _AES_BLOCK_BYTES:
            _reject(
                "encrypted_state of %d bytes is not whole AES blocks", len(encrypted)
            )
            return None

        # RFC 5077 §4: key_name says which key sealed the ticket.
        slot = self._slots.get(fields["key_name"])
        if slot is not None and slot.retired_at is not None:
            now = self._clock()
            if now >= slot.retired_at + self._retire_after:
                self._drop_retired(now)
                slot = None
        if slot is None:
            _reject("unknown key name %s", fields["key_name"].hex())
            return None

        # Authenticate before decrypting, so no decryption or padding
        # outcome is ever visible for bytes the server did not seal.
        mac = slot.mac.copy()
        mac.update(ticket[:-MAC_LENGTH])
        try:
            mac.verify(fields["mac"])
        except InvalidSignature:
            _reject("bad MAC")
            return None

        padded = slot.decrypt(fields["iv"], encrypted)
        unpadder = _PKCS7.unpadder()
        try:
            state = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            _reject("bad padding")
            return None

        renew = slot is not self._current
        if renew:
            _log.debug(
                "ticket opened with previous key %s; renewing it", slot.key.name.hex()
            )
        return Unsealed(state, renew)

    def _drop_retired(self, now: float) -> None:
        with self._write_lock:
            slots = self._slots
            kept = {
                name: slot
                for name, slot in slots.items()
                if slot.retired_at is None or now < slot.retired_at + self._retire_after
            }
            if len(kept) != len(slots):
                self._slots = kept


def _unresumable(field_name: str, reason: str) -> DecodeError:
    path = f"StatePlaintext.{field_name}"
    return DecodeError(reason, path=path, alert="illegal_parameter")


def _check_type(name: str, value: object, expected: type | UnionType) -> None:
    if not isinstance(value, expected):
        wanted = getattr(expected, "__name__", None) or str(expected)
        raise TypeError(
            f"SessionState.{name} must be {wanted}, got {type(value).__name__}"
        )


def _check_range(name: str, value: int, maximum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"SessionState.{name} must be an int, got {value!r}")
    if not 0 <= value <= maximum:
        raise ValueError(f"SessionState.{name} must be 0 to {maximum}, got {value}")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SessionState:
    """The state a ticket carries to resume a TLS 1.2 session.

    Encoded as the generated ``StatePlaintext``: RFC 5077 §4's fields plus
    the master secret kind (RFC 7627 §5.3 forbids resuming across a
    difference in extended master secret use), the lifetime granted, the
    server name (RFC 6066 §3) and the ALPN protocol (RFC 7301).  The master
    secret stays out of ``repr`` and is compared in constant time.

    LIMITATION: only sessions without client authentication are carried
    (client_identity is always ``anonymous``); matters once the server asks
    for client certificates or runs PSK suites; instead such a session
    should not be sealed, and a ticket naming another identity does not
    decode.

    Attributes:
        version: The negotiated ProtocolVersion.
        cipher_suite: The negotiated CipherSuite.
        master_secret: The 48-byte master secret.
        extended_master_secret: Whether the master secret is an extended
            one (RFC 7627).
        creation_time: When the session was created, whole seconds since
            the epoch (uint32).
        lifetime: Seconds from ``creation_time`` until the ticket expires
            (uint32); 0 makes a ticket that never opens.
        server_name: The SNI host name of the original handshake, ASCII.
        alpn_protocol: The ALPN protocol selected, 1 to 255 bytes.

    Raises:
        ValueError: A field is out of its range.
    """

    version: ProtocolVersion | int
    cipher_suite: CipherSuite | int
    master_secret: bytes = field(repr=False)
    extended_master_secret: bool
    creation_time: int
    lifetime: int
    server_name: str | None = None
    alpn_protocol: bytes | None = None

    def __post_init__(self) -> None:
        _check_range("version", self.version, _MAX_UINT16)
        _check_range("cipher_suite", self.cipher_suite, _MAX_UINT16)
        _check_range("creation_time", self.creation_time, _MAX_UINT32)
        _check_range("lifetime", self.lifetime, _MAX_UINT32)
        _check_type("master_secret", self.master_secret, bytes)
        _check_type("extended_master_secret", self.extended_master_secret, bool)
        _check_type("server_name", self.server_name, str | None)
        _check_type("alpn_protocol", self.alpn_protocol, bytes | None)
        if len(self.master_secret) != MASTER_SECRET_LENGTH:
            raise ValueError(
                f"SessionState.master_secret must be {MASTER_SECRET_LENGTH} "
                f"bytes, got {len(self.master_secret)}"
            )
        name = self.server_name
        if name is not None and not (
            name.isascii() and 1 <= len(name) <= _MAX_SERVER_NAME_LENGTH
        ):
            raise ValueError(
                "SessionState.server_name must be 1 to 65535 ASCII characters "
                f"(RFC 6066 §3), got {name!r}; use None for no name"
            )
        alpn = self.alpn_protocol
        if alpn is not None and not 1 <= len(alpn) <= _MAX_ALPN_LENGTH:
            raise ValueError(
                "SessionState.alpn_protocol must be 1 to 255 bytes, "
                f"got {len(alpn)}; use None for no protocol"
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SessionState):
            return NotImplemented
        return all(
            getattr(self, name) == getattr(other, name) for name in _PUBLIC_FIELDS
        ) and bytes_eq(self.master_secret, other.master_secret)

    __hash__ = None  # type: ignore[assignment]

    def to_bytes(self) -> bytes:
        """Encode the state as a ``StatePlaintext``.

        Returns:
            The encoded state, ready for :meth:`TicketKeyRing.seal`.

        Raises:
            EncodeError: A value does not fit its field.
        """
        kind = _EXTENDED if self.extended_master_secret else _STANDARD
        server_name = b"" if self.server_name is None else self.server_name.encode()
        return StatePlaintext.build(
            {
                "protocol_version": self.version,
                "cipher_suite": self.cipher_suite,
                "compression_method": _NULL_COMPRESSION,
                "master_secret": self.master_secret,
                "client_identity": _NO_CLIENT_IDENTITY,
                "timestamp": self.creation_time,
                "master_secret_kind": kind,
                "lifetime": self.lifetime,
                "server_name": server_name,
                "alpn_protocol": self.alpn_protocol or b"",
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SessionState:
        """Decode a ``StatePlaintext``.

        Args:
            data: The encoded state, e.g. :attr:`Unsealed.state`.

        Returns:
            The state; an empty server name or ALPN protocol becomes None.

        Raises:
            DecodeError: ``data`` is not exactly one ``StatePlaintext``, or
                names a compression method, client identity, master secret
                kind or server name this runtime does not resume.
        """
        plain = StatePlaintext.parse(data)

        # Only what this runtime can produce is resumable: null compression
        # (RFC 5246 §6.2.2), no client authentication, a known EMS flag.
        compression = plain["compression_method"]
        if compression != _NULL_COMPRESSION:
            raise _unresumable("compression_method", f"{compression} is not null")
        identity = plain["client_identity"]["client_authentication_type"]
        if identity != _ANONYMOUS:
            raise _unresumable("client_identity", f"{identity} is not anonymous")
        kind = plain["master_secret_kind"]
        if kind != _STANDARD and kind != _EXTENDED:
            raise _unresumable("master_secret_kind", f"unknown kind {kind}")
        server_name = plain["server_name"]
        if not server_name.isascii():
            raise _unresumable("server_name", "not ASCII (RFC 6066 §3)")

        return cls(
            version=plain["protocol_version"],
            cipher_suite=plain["cipher_suite"],
            master_secret=plain["master_secret"],
            extended_master_secret=kind == _EXTENDED,
            creation_time=plain["timestamp"],
            lifetime=plain["lifetime"],
            server_name=server_name.decode("ascii") if server_name else None,
            alpn_protocol=plain["alpn_protocol"] or None,
        )


_PUBLIC_FIELDS: Final = tuple(
    f.name for f in fields(SessionState) if f.name != "master_secret"
)


def seal_session(ring: TicketKeyRing, state: SessionState) -> bytes:
    """Seal a session into a ticket under the ring's current key.

    Args:
        ring: The server's ticket keys.
        state: The session to carry.

    Returns:
        The ticket for a NewSessionTicket message.

    Raises:
        LookupError: The ring holds no key.
    """
    return ring.seal(state.to_bytes())


def _is_finite_time(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def open_session(
    ring: TicketKeyRing, ticket: bytes, *, now: float
) -> tuple[SessionState, bool] | None:
    """Open a ticket and check the session it carries is still valid.

    Returns ``None``, with one DEBUG log line naming the reason, when the
    ticket does not unseal (see :meth:`TicketKeyRing.unseal`), its state
    does not decode, its lifetime has run out (a lifetime of 0 never
    opens), or it claims a creation time more than
    :data:`CLOCK_SKEW_ALLOWANCE` seconds ahead of ``now``.  The caller
    then runs a full handshake (RFC 5077 §3.2); no alert is sent.

    Args:
        ring: The server's ticket keys.
        ticket: The ticket from the client's SessionTicket extension.
        now: The current time, seconds since the epoch.

    Returns:
        The session and whether the server should issue a fresh ticket
        (it was sealed under a previous key), or ``None``.

    Raises:
        ValueError: ``now`` is not a finite number.
    """
    if not _is_finite_time(now):
        raise ValueError(f"now: {now!r}, expected finite seconds since the epoch")
    unsealed = ring.unseal(ticket)
    if unsealed is None:
        return None

    try:
        state = SessionState.from_bytes(unsealed.state)
    except DecodeError as exc:
        # The path names the field; the state's bytes are never logged.
        _reject("state does not decode (%s)", exc.path or "StatePlaintext")
        return None

    # RFC 5077 §5.6: the server decides how long a ticket is good for.
    if now >= state.creation_time + state.lifetime:
        _reject(
            "expired (created %d, lifetime %d s, now %d)",
            state.creation_time,
            state.lifetime,
            int(now),
        )
        return None
    if state.creation_time > now + CLOCK_SKEW_ALLOWANCE:
        _reject("created %d s in the future", int(state.creation_time - now))
        return None
    return state, unsealed.renew
