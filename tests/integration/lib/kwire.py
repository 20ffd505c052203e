"""
kwire.py - a minimal raw Kafka protocol client for tests.

Builds requests byte by byte (so tests can also build *wrong* ones), sends
them on a plain socket and parses the few responses the tests look at. Only
non-flexible request header v1 is used, except where a test needs header v2.

Wire layout of a request (all integers big endian):

    OFFSET SIZE FIELD
    0      4    size of what follows
    4      2    api_key
    6      2    api_version
    8      4    correlation_id
    12     2+n  client_id (int16 length, -1 = null)
    ..          [header v2 only: tagged fields, unsigned varint count]
    ..          body

Response: int32 size, int32 correlation_id, [tagged fields if header v1], body.
"""

import socket
import struct
import time
import zlib

# Kafka error codes used by the tests.
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
UNSUPPORTED_FOR_MESSAGE_FORMAT = 43
UNSUPPORTED_VERSION = 35
INVALID_REQUEST = 42
INVALID_RECORD = 87

API_PRODUCE = 0
API_FETCH = 1
API_LIST_OFFSETS = 2
API_METADATA = 3
API_API_VERSIONS = 18
API_DELETE_RECORDS = 21
API_INCREMENTAL_ALTER_CONFIGS = 44


# ---------------------------------------------------------------- encoding

def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def u32(v):
    return struct.pack(">I", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def nbytes(b):
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items, enc):
    return i32(len(items)) + b"".join(enc(x) for x in items)


def uvarint(v):
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint(v):
    return uvarint((v << 1) ^ (v >> 63))  # zigzag


def request(api_key, api_version, correlation_id, body, client_id="strait-test",
            header_version=1):
    header = i16(api_key) + i16(api_version) + i32(correlation_id) + string(client_id)
    if header_version >= 2:
        header += uvarint(0)
    payload = header + body
    return i32(len(payload)) + payload


# ---------------------------------------------------------------- CRC32C

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


# ---------------------------------------------------------------- records

def record_batch(records, base_timestamp_ms=None, corrupt_crc=False):
    """A magic v2 batch, uncompressed; records = [(key, value, [(hkey, hval)])]."""
    ts = base_timestamp_ms if base_timestamp_ms is not None else int(time.time() * 1000)
    body = b""
    for delta, (key, value, headers) in enumerate(records):
        rec = i8(0) + varint(0) + varint(delta)
        rec += varint(-1) if key is None else varint(len(key)) + key
        rec += varint(-1) if value is None else varint(len(value)) + value
        rec += varint(len(headers))
        for hk, hv in headers:
            rec += varint(len(hk)) + hk + varint(len(hv)) + hv
        body += varint(len(rec)) + rec
    after_crc = (i16(0)                      # attributes: no codec, CreateTime
                 + i32(len(records) - 1)     # lastOffsetDelta
                 + i64(ts) + i64(ts)         # firstTimestamp, maxTimestamp
                 + i64(-1) + i16(-1) + i32(-1)  # producerId, epoch, baseSequence
                 + i32(len(records)) + body)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0x5A5A5A5A
    after_length = i32(0) + i8(2) + u32(crc) + after_crc  # partitionLeaderEpoch, magic
    return i64(0) + i32(len(after_length)) + after_length


def message_set_v1(key, value, timestamp_ms=None):
    """A legacy magic v1 message set with one message (CRC32, not CRC32C)."""
    ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    rest = i8(1) + i8(0) + i64(ts) + nbytes(key) + nbytes(value)
    message = u32(zlib.crc32(rest)) + rest
    return i64(0) + i32(len(message)) + message


# ---------------------------------------------------------------- bodies

def produce_v3_body(topic, partition, records_bytes, acks=1, timeout_ms=10000):
    return (string(None) + i16(acks) + i32(timeout_ms)
            + i32(1) + string(topic) + i32(1) + i32(partition) + nbytes(records_bytes))


def metadata_v1_body(topics=None):
    if topics is None:
        return i32(-1)
    return array(topics, string)


def list_offsets_v1_body(topic, partition, timestamp):
    return i32(-1) + i32(1) + string(topic) + i32(1) + i32(partition) + i64(timestamp)


def delete_records_v0_body(topic, partition, offset, timeout_ms=10000):
    return (i32(1) + string(topic) + i32(1) + i32(partition) + i64(offset)
            + i32(timeout_ms))


def incremental_alter_configs_v0_body(topic, configs, validate_only=False):
    """configs = [(name, op, value)], op 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT."""
    entries = b"".join(string(n) + i8(op) + string(v) for n, op, v in configs)
    return (i32(1) + i8(2) + string(topic) + i32(len(configs)) + entries
            + i8(1 if validate_only else 0))


# ---------------------------------------------------------------- decoding

class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("response truncated: need %d bytes at %d of %d"
                             % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def array(self, fn):
        n = self.i32()
        if n < 0:
            return None
        return [fn(self) for _ in range(n)]

    def remaining(self):
        return len(self.data) - self.pos


def parse_api_versions_v0(body):
    r = Reader(body)
    error = r.i16()
    keys = r.array(lambda r: (r.i16(), r.i16(), r.i16()))
    return error, keys, r.remaining()


def parse_produce_v3(body):
    """-> {(topic, partition): (error_code, base_offset)}"""
    r = Reader(body)
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        for _ in range(r.i32()):
            partition = r.i32()
            error = r.i16()
            base_offset = r.i64()
            r.i64()  # log_append_time
            out[(topic, partition)] = (error, base_offset)
    r.i32()  # throttle_time_ms
    return out


def parse_produce_v8(body):
    """-> {(topic, partition): (error_code, base_offset, record_errors, error_message)}
    with record_errors = [(batch_index, batch_index_error_message)] (KIP-467)."""
    r = Reader(body)
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        for _ in range(r.i32()):
            partition = r.i32()
            error = r.i16()
            base_offset = r.i64()
            r.i64()  # log_append_time_ms
            r.i64()  # log_start_offset
            record_errors = r.array(lambda rr: (rr.i32(), rr.string()))
            out[(topic, partition)] = (error, base_offset, record_errors, r.string())
    r.i32()  # throttle_time_ms
    check_done = r.remaining()
    if check_done:
        raise ValueError("%d bytes after the Produce v8 response" % check_done)
    return out


def parse_list_offsets_v1(body):
    """-> {(topic, partition): (error_code, timestamp, offset)}"""
    r = Reader(body)
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        for _ in range(r.i32()):
            partition = r.i32()
            out[(topic, partition)] = (r.i16(), r.i64(), r.i64())
    return out


def parse_delete_records_v0(body):
    """-> {(topic, partition): (error_code, low_watermark)}"""
    r = Reader(body)
    r.i32()  # throttle
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        for _ in range(r.i32()):
            partition = r.i32()
            low = r.i64()
            out[(topic, partition)] = (r.i16(), low)
    return out


def parse_incremental_alter_configs_v0(body):
    """-> [(error_code, error_message, resource_type, resource_name)]"""
    r = Reader(body)
    r.i32()  # throttle
    return r.array(lambda r: (r.i16(), r.string(), r.i8(), r.string()))


# ---------------------------------------------------------------- connection

class ConnectionClosed(Exception):
    pass


class Conn:
    """One socket to the broker; send() raw bytes, recv_response() one frame."""

    def __init__(self, bootstrap, timeout_s=10):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.correlation_id = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _recv_exact(self, n):
        chunks = []
        while n > 0:
            try:
                chunk = self.sock.recv(min(n, 1 << 20))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ConnectionClosed("connection closed by broker")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def recv_response(self, header_version=0):
        """-> (correlation_id, body)"""
        size = struct.unpack(">i", self._recv_exact(4))[0]
        if size < 4 or size > 512 * 1024 * 1024:
            raise ValueError("bad response size %d" % size)
        payload = self._recv_exact(size)
        correlation_id = struct.unpack(">i", payload[:4])[0]
        body = payload[4:]
        if header_version >= 1:
            if not body or body[0] != 0:  # tests expect no header tags
                raise ValueError("unexpected response header tags")
            body = body[1:]
        return correlation_id, body

    def call(self, api_key, api_version, body, header_version=1, response_header_version=0):
        self.correlation_id += 1
        cid = self.correlation_id
        self.send(request(api_key, api_version, cid, body, header_version=header_version))
        got, resp = self.recv_response(response_header_version)
        if got != cid:
            raise ValueError("correlation id %d in response to request %d" % (got, cid))
        return resp

    def wait_closed(self, timeout_s=10):
        """True if the broker closes this connection within timeout_s (any
        bytes it sends first are read and discarded)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
        return False

    def api_versions(self):
        error, keys, _ = parse_api_versions_v0(self.call(API_API_VERSIONS, 0, b""))
        return error, keys
