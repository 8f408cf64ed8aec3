"""A local HTTPS endpoint that accepts an HTTP/2 connection and then fails each stream.

The network edge for the Amazon Transcribe engine's tests: the real SDK client, with its
real CRT transport, negotiates TLS (ALPN ``h2``) and HTTP/2 with it, opens its event
stream, and is answered ``500`` on that stream, as a failing service would; or, given a
status and an error type, as the service answers a modeled error (Transcribe's
``LimitExceededException``: ``429``, ``x-amzn-errortype`` and a JSON body). The
certificate is made for ``localhost`` at start; point ``SSL_CERT_FILE`` (which the CRT
reads when the client's TLS context is made) at :attr:`Http2FailingEndpoint.ca_file`.
"""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import struct
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, SETTINGS, HEADERS = 0x0, 0x4, 0x1
ACK = END_STREAM = 0x1
END_HEADERS = 0x4
#: HPACK: the static table's entry 14, ``:status: 500``
STATUS_500 = bytes([0x80 | 14])


def literal(name: bytes | int, value: bytes) -> bytes:
    """HPACK: a literal header field without indexing, its name indexed in the static table (an int) or new."""
    if isinstance(name, int):
        prefix = bytes([name]) if name < 15 else bytes([0x0F, name - 15])
    else:
        prefix = bytes([0, len(name)]) + name
    return prefix + bytes([len(value)]) + value


def error_answer(status: int, error_type: str, message: str) -> tuple[bytes, bytes]:
    """The header block and body of a restJson1 modeled error (static table: 8 ``:status``, 31 ``content-type``)."""
    headers = (
        literal(8, str(status).encode())
        + literal(31, b"application/json")
        + literal(b"x-amzn-errortype", error_type.encode())
    )
    return headers, json.dumps({"Message": message}).encode()


def frame(kind: int, flags: int = 0, stream: int = 0, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class Http2FailingEndpoint:
    """Accepts TLS + HTTP/2 connections; answers every request (stream) with status 500, or with ``error``
    (status, error type, message) as a modeled error."""

    def __init__(self, error: tuple[int, str, str] | None = None) -> None:
        self._error = error_answer(*error) if error else None
        self._folder = tempfile.TemporaryDirectory()
        self.ca_file, key_file = self_signed(Path(self._folder.name))
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(self.ca_file, key_file)
        self._tls.set_alpn_protocols(["h2"])
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        #: the protocol (ALPN) each connection negotiated, once its request arrived
        self.requests: list[str | None] = []
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def __enter__(self) -> Http2FailingEndpoint:
        threading.Thread(target=self._serve, daemon=True, name="h2-endpoint").start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._socket.close()
        self._folder.cleanup()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        try:
            with self._tls.wrap_socket(connection, server_side=True) as tls:
                buffered = bytearray()

                def take(size: int) -> bytes:
                    while len(buffered) < size:
                        data = tls.recv(65536)
                        if not data:
                            raise ConnectionError("the client closed the connection")
                        buffered.extend(data)
                    taken = bytes(buffered[:size])
                    del buffered[:size]
                    return taken

                take(len(PREFACE))
                tls.sendall(frame(SETTINGS) + frame(SETTINGS, ACK))
                while True:
                    header = take(9)
                    take(int.from_bytes(header[:3]))
                    if header[3] == HEADERS:
                        self.requests.append(tls.selected_alpn_protocol())
                        stream = int.from_bytes(header[5:9]) & 0x7FFFFFFF
                        if self._error is None:
                            tls.sendall(frame(HEADERS, END_HEADERS | END_STREAM, stream, STATUS_500))
                        else:
                            headers, body = self._error
                            tls.sendall(frame(HEADERS, END_HEADERS, stream, headers))
                            tls.sendall(frame(DATA, END_STREAM, stream, body))
        except (OSError, ssl.SSLError):
            return
