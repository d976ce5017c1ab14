"""The ticket key ring: sealing and opening RFC 5077 §4 tickets.

A :class:`TicketKeyRing` holds the ticket keys of one server, or of a fleet
sharing them: the newest key seals, every key still in the ring is tried
when opening, and a key that stopped being current drops out after a
retire window.

The ticket follows the construction RFC 5077 §4 recommends: AES in CBC mode
with PKCS #7 padding, then HMAC-SHA-256 over every byte before the MAC
(encrypt-then-MAC).  Opening checks the MAC, in constant time, before
anything is decrypted.

A ticket that cannot be opened is not an error: "If the server fails to
verify the ticket, then it falls back to performing a full handshake"
(RFC 5077 §3.2).  So :meth:`TicketKeyRing.unseal` returns ``None`` for
every refusal, never raises, and logs one DEBUG line saying why, under the
``tlsspec.runtime.tickets`` logger.  Key bytes are never logged; key names
are, because they travel in the clear in every ticket.

LIMITATION: nginx (through OpenSSL) writes key_name, IV, ciphertext, MAC
with no length before the ciphertext, around an ASN.1 ``SSL_SESSION``;
matters when nginx and tlsspec servers share a key file behind one load
balancer; instead each refuses the other's tickets and the client gets a
full handshake.  The key files themselves are interchangeable.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tlsspec.errors import DecodeError
from tlsspec.generated.ticket import ticket as ticket_codec
from tlsspec.runtime.sources import (
    Clock,
    Random,
    check_callable,
    checked_clock,
    checked_random,
)
from tlsspec.runtime.ticketkeys import AES_KEY_LENGTHS, KEY_NAME_LENGTH, TicketKey

__all__ = [
    "DEFAULT_RETIRE_AFTER",
    "IV_LENGTH",
    "MAC_LENGTH",
    "MAX_STATE_LENGTH",
    "TicketKeyRing",
    "Unsealed",
]

# Ticket decisions are logged under the one name operators enable for them.
_log = logging.getLogger(__name__.rpartition(".")[0] + ".tickets")

# RFC 5077 §4:
#     struct {
#         opaque key_name[16];
#         opaque iv[16];
#         opaque encrypted_state<0..2^16-1>;
#         opaque mac[32];
#     } ticket;
IV_LENGTH: Final = 16
MAC_LENGTH: Final = 32
# The 2-byte length of encrypted_state, covered by the MAC.
_STATE_LENGTH_PREFIX: Final = 2

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

_PKCS7: Final = padding.PKCS7(algorithms.AES.block_size)
_SHA256: Final = hashes.SHA256()
# seal() builds the ticket once with this in the mac field, then swaps in
# the real MAC over every byte before it.
_MAC_PLACEHOLDER: Final = bytes(MAC_LENGTH)


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


def _ticket_bytes(ticket: object) -> bytes:
    # Any layout or item format: the ticket is its bytes.
    if not isinstance(ticket, bytearray | memoryview):
        raise TypeError(
            f"ticket must be bytes, bytearray or memoryview, "
            f"got {type(ticket).__name__}"
        )
    return memoryview(ticket).tobytes()


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
            ticket = _ticket_bytes(ticket)
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
            if self._retire_window_passed(slot.retired_at):
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

    def _retire_window_passed(self, retired_at: float) -> bool:
        # True, having dropped every such key, once retired_at is too old.
        now = self._clock()
        if now >= retired_at + self._retire_after:
            self._drop_retired(now)
            return True
        return False

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
